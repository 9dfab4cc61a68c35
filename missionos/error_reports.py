"""What Django's error reports may show: the 500 page with DEBUG on, and the reports made with
DEBUG off (the mail to ADMINS, any handler given the request).

Django's own filter hides `sensitive_post_parameters` and `sensitive_variables` only while
DEBUG is off, so a developer's debug page, or a staging server run with DEBUG on, showed the
Airtable token and the password being typed. This filter always hides them, and hides too any
POST field whose name says it is a secret, on views nobody marked.
"""

from __future__ import annotations

import re

from django.views.debug import SafeExceptionReporterFilter

SECRET_FIELD = re.compile(r"pass|token|secret|api.?key|signature|verifier", re.IGNORECASE)


class SecretsHiddenFilter(SafeExceptionReporterFilter):
    def is_active(self, request) -> bool:
        return True

    def get_post_parameters(self, request):
        if request is None:
            return {}
        return self._cleansed(request, request.POST)

    def get_cleansed_multivaluedict(self, request, multivaluedict):
        return self._cleansed(request, multivaluedict)

    def _cleansed(self, request, values):
        marked = getattr(request, "sensitive_post_parameters", None) or []
        names = set(values) if marked == "__ALL__" else set(marked)
        names |= {name for name in values if SECRET_FIELD.search(str(name))}
        names &= set(values)
        if not names:
            return values
        cleansed = values.copy()
        for name in names:
            cleansed[name] = self.cleansed_substitute
        return cleansed
