"""The staff pages: server-rendered HTML over the application layer, on the API's app."""
