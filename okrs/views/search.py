"""The search page (/o/<slug>/search/?q=): everything in the organization that matches, by
kind (okrs.selectors.search); the header's box submits to it on every organization page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from okrs import search, selectors

QUERY_MAX = search.MAX_QUERY_CHARS  # a pasted message, not a whole document


def search_page(request: HttpRequest, org_slug: str) -> HttpResponse:
    query = " ".join(request.GET.get("q", "")[: QUERY_MAX * 2].split())[:QUERY_MAX]
    results = selectors.search_organization(organization=request.org, query=query)
    return render(request, "okrs/search.html", {"query": query, "results": results})
