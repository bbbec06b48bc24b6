"""The staff pages on the API's app: the case pages (pages/routes.py), the rulebook's page
(pages/rules.py, built on the case pages' helpers) and their static files."""

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from pages import routes, rules


def install(app: FastAPI) -> None:
    app.include_router(routes.router)
    app.include_router(rules.router)
    app.mount("/staff/static", StaticFiles(directory=routes.HERE / "static"), name="pages-static")
