"""Signing in through Supabase Auth (supabase-py), when SUPABASE_URL and SUPABASE_ANON_KEY are set.

- ``config.py``: the settings; ``client.py``: one supabase-py client per request, Supabase's
  errors as `SignInRefused`
- ``tokens.py``: the access token verified on this server (PyJWT: JWKS or the legacy secret)
- ``identities.py``: the Supabase user mapped to exactly one Django user (`SupabaseIdentity`)
- ``services.py``: the flows: password, magic link and code (PKCE), sign-up, password reset
- ``backend.py``: the Django auth backend (passwords checked by Supabase, throttled like any)
- ``forms.py``, ``views.py``, ``urls.py``: the pages under /auth/ and the login form

Without those settings none of it answers and Django's own accounts sign people in.
"""
