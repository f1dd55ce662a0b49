"""Google Compute Engine through google-cloud-compute (REST); the SDK loads on first API call."""
