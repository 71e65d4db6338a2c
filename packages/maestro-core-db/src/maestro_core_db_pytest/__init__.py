"""pytest plugin (inert until configured)."""
