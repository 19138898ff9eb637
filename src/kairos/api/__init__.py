"""The JSON API under /api/v1 (django-ninja): the NinjaAPI instance, token auth and error mapping.
Each app contributes a router from its own ``api.py``."""
