"""Offerings per cloud with on-demand and spot prices, loaded lazily."""
