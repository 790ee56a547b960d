"""Label values for one finished call, in LiteLLM's label vocabulary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gateway.hooks import CallRecord

AliasOf = Callable[[str], str | None]


def _no_alias(_team_id: str) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class CallLabels:
    end_user: str
    hashed_api_key: str
    api_key_alias: str
    team: str
    team_alias: str
    user: str
    requested_model: str
    model: str  # the deployment's upstream model, or the group when none was reached
    model_id: str
    api_base: str
    api_provider: str

    @classmethod
    def of(
        cls, record: CallRecord, *, track_end_user: bool, team_alias: AliasOf = _no_alias
    ) -> CallLabels:
        principal, deployment = record.principal, record.deployment
        team = principal.team_id or ""
        return cls(
            end_user=(record.end_user or "") if track_end_user else "",
            hashed_api_key=principal.token or "",
            api_key_alias=principal.key_alias or "",
            team=team,
            team_alias=(team_alias(team) or "") if team else "",
            user=principal.user_id or "",
            requested_model=record.model_group,
            model=deployment.model if deployment else record.model_group,
            model_id=deployment.id if deployment else "",
            api_base=(deployment.api_base or "") if deployment else "",
            api_provider=deployment.provider if deployment else "",
        )

    @property
    def litellm_model_name(self) -> str:
        return self.model
