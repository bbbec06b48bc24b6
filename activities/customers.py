"""The customer lookup a case makes when it opens (its SQL lives in store.customers)."""

from temporalio import activity

from domain.model import CustomerProfile
from store.customers import CustomerDirectory


class CustomerActivities:
    def __init__(self, directory: CustomerDirectory) -> None:
        self.directory = directory

    @activity.defn(name="customer_profile")
    async def customer_profile(self, ref: str) -> CustomerProfile:
        return await self.directory.profile(ref)
