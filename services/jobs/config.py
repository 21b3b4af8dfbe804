"""Jobs settings."""

from __future__ import annotations

from pydantic import Field

from services.common.config import BaseServiceSettings


class Settings(BaseServiceSettings):
    sweep_interval: float = Field(5.0, description="Seconds between sweeps for undispatched jobs.")
    dispatch_grace: float = Field(5.0, description="Age in seconds before the sweeper re-dispatches a job.")
    max_running_per_account: int = Field(4, description="Jobs of one account at the workers at once.")
    trial_grant_neu: int = Field(600, description="Credits (NEU) a new account starts with; 0: none.")
    trial_days: int = Field(30, description="Days the trial credits last.")
