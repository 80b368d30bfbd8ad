"""REST endpoints for products and orders (mounted at /api/v1/products and /api/v1/orders).

A package: `schemas` (the contract), `products` and `orders` (the routes). `treu.api.main`
mounts the two routers from here.
"""

from treu.commerce.api.orders import orders_router
from treu.commerce.api.products import products_router

__all__ = ["orders_router", "products_router"]
