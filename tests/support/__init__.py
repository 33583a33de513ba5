"""What every service's tests share: AWS events as Lambda receives them, and a tap on the bus."""
