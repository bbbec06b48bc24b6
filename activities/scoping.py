"""Every activity acts for its case's shop: the shop is read from the workflow id
(infra.shop_ids) and held for the activity's database calls (store.scope). Activities of
the service's own schedules (the sweeps) act for every shop and visit them one by one."""

from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from infra import shop_ids
from store import scope


def shop_of_activity(workflow_id: str | None) -> str:
    if workflow_id and workflow_id.startswith(shop_ids.PREFIX):
        return shop_ids.shop_of(workflow_id)
    return scope.EVERY_SHOP


class _Inbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        with scope.shop(shop_of_activity(activity.info().workflow_id)):
            return await self.next.execute_activity(input)


class ShopScope(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Inbound(next)
