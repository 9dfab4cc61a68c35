"""The models and their migrations agree: a model change without its migration fails here
(Activity.target_id was nullable in the model and NOT NULL in the database for a while)."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_lacks_a_migration(capsys):
    try:
        call_command("makemigrations", "--check", "--dry-run")
    except SystemExit:  # --check exits 1 when a migration is missing
        pytest.fail(f"models changed without a migration:\n{capsys.readouterr().out}")
    assert "No changes detected" in capsys.readouterr().out
