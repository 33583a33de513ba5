"""Business rules of the orders service; talks to storage only through ``orders.data`` interfaces."""
