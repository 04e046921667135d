"""iot-rollouts: declarative, git-driven rollouts of AWS IoT Jobs.

The data flows one way: files -> manifests (``engine.loader``, ``engine.schema``)
-> validated jobs (``engine.validate``) -> requests (``engine.resolve``) -> CLI.
"""

__version__ = "0.1.0"
