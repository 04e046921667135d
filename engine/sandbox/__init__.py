"""The simulated AWS IoT (moto plus the Jobs behaviour it lacks), for tests and ``--sandbox``."""
