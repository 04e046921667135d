"""``rollouts import``: manifests for jobs that exist in AWS IoT (DESIGN.md section 10).

``import_jobs`` reads the jobs (``read``), writes one readable, minimal manifest per job
(``manifest``) with its jobId pinned, and checks, before it returns, that each manifest
validates and resolves to exactly the job AWS holds: so the next plan shows each job only
as ``@ adopt`` (TagResource with the tool's tags), and after that apply, no change. A
finished job (completed, canceled) is imported too, as a finished revision: the plan
adopts it, the ledger records it, and nothing runs again.
"""

from engine.importer.run import ImportRefused, ImportResult, Written, import_jobs

__all__ = ["ImportRefused", "ImportResult", "Written", "import_jobs"]
