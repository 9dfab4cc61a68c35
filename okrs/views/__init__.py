"""OKR and project pages, one module per page (okrs/urls.py mounts them under /o/<org_slug>/)."""
