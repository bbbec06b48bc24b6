"""The shop's rulebook, read by the worker when a case opens: response targets and care
policy come from the worker's configuration, never from whoever opened the case."""

from temporalio import activity

from domain.model import CaseRules, Motive
from infra.settings import Settings


class RulebookActivities:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @activity.defn(name="case_rules")
    async def case_rules(self, motive: Motive) -> CaseRules:
        return CaseRules(
            targets=self.settings.targets_for(motive), care=self.settings.care_policy()
        )
