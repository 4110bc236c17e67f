"""Feature handlers: each module exposes `setup(router)` and never knows the platform."""
