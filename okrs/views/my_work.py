"""“My work”: a user's tasks and key results in every organization they belong to."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from okrs import selectors


@login_required
def my_work(request: HttpRequest) -> HttpResponse:
    context = {
        "groups": selectors.my_work(user=request.user),
        "mentions": selectors.my_mentions(user=request.user),
        "today": timezone.localdate(),
    }
    return render(request, "okrs/my_work.html", context)
