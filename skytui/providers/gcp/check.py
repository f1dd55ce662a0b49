"""`skytui check` for GCP when it is enabled: credentials, project, and one real API call.

It says one of: enabled / no ADC / project missing / credentials expired / permission
denied / endpoint not answering. It names where credentials came from by kind, never by
content: no token, key or secret is ever printed.
"""

from __future__ import annotations

from skytui.config_model import GcpSettings
from skytui.errors import SkytuiError
from skytui.providers.gcp.naming import is_local_emulator


def check(settings: GcpSettings) -> str:
    from skytui.providers.gcp.api import Api

    source = f"anonymous, for the local emulator at {settings.endpoint}"
    if not is_local_emulator(settings.endpoint):
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError

        try:
            creds, adc_project = google.auth.default()
        except DefaultCredentialsError:
            return ("GCP: enabled, but no Application Default Credentials; "
                    "run `gcloud auth application-default login`")
        if not (settings.project or adc_project):
            return "GCP: enabled, but the project is missing; add `gcp: {project: YOUR-PROJECT-ID}` to config.yaml"
        source = f"Application Default Credentials ({type(creds).__name__})"
    elif not settings.project:
        return "GCP: enabled, but the project is missing; add `gcp: {project: YOUR-PROJECT-ID}` to config.yaml"
    api = Api(settings.project, settings.endpoint)
    try:
        api.probe()
    except SkytuiError as exc:
        return f"GCP: enabled, but not usable: {str(exc).removeprefix('GCP: ')}"
    return f"GCP: enabled (project {api.project}; {source})"
