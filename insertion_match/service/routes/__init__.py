"""HTTP routers, one module per resource. Routes validate, call one library function, map."""
