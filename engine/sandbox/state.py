"""The sandbox's saved state: the jobs of a simulated account as JSON, and back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.sandbox.moto_jobs import backend, job_tags


def export_jobs(account: str, region: str) -> list[dict[str, Any]]:
    """The jobs of one backend as JSON-ready records (the sandbox's saved state)."""
    b = backend(account, region)
    records = []
    for job in b.jobs.values():
        records.append({
            "jobId": job.job_id, "targets": job.targets, "document": job.document,
            "documentSource": job.document_source, "description": job.description,
            "presignedUrlConfig": job.presigned_url_config,
            "targetSelection": job.target_selection,
            "jobExecutionsRolloutConfig": job.job_executions_rollout_config,
            "documentParameters": job.document_parameters, "abortConfig": job.abort_config,
            "jobExecutionsRetryConfig": job.job_execution_retry_config,
            "schedulingConfig": job.scheduling_config, "timeoutConfig": job.timeout_config,
            "status": job.status, "extra": getattr(job, "_rollouts_extra", {}),
            # Who canceled a job is read from these (the tool's cancels carry its reasonCode).
            "reasonCode": job.reason_code, "comment": job.comment, "force": job.force,
            "tags": job_tags(b).get(job.job_arn, {}),
            "processDetails": job.job_process_details,
            "createdAt": job.created_at.isoformat(),
            "lastUpdatedAt": job.last_updated_at.isoformat(),
            "completedAt": job.completed_at.isoformat() if job.completed_at else None,
            "simulated": getattr(job, "_rollouts_simulated", False),
        })
    return records


def import_jobs(records: list[dict[str, Any]], account: str, region: str) -> None:
    """Put saved jobs back into a fresh backend."""
    b = backend(account, region)
    for r in records:
        b.create_job(
            job_id=r["jobId"], targets=r["targets"], document_source=r["documentSource"],
            document=r["document"], description=r["description"],
            presigned_url_config=r["presignedUrlConfig"],
            target_selection=r["targetSelection"],
            job_executions_rollout_config=r["jobExecutionsRolloutConfig"],
            document_parameters=r["documentParameters"], abort_config=r["abortConfig"],
            job_execution_retry_config=r["jobExecutionsRetryConfig"],
            scheduling_config=r["schedulingConfig"], timeout_config=r["timeoutConfig"],
        )
        job = b.jobs[r["jobId"]]
        job.status = r["status"]
        job.reason_code = r.get("reasonCode")
        job.comment = r.get("comment")
        job.force = bool(r.get("force"))
        job._rollouts_extra = r["extra"]  # type: ignore[attr-defined]
        job.job_process_details = r.get("processDetails", job.job_process_details)
        # Timestamps are part of a job's fingerprint (saved plans): they must survive.
        job.created_at = datetime.fromisoformat(r["createdAt"])
        job.last_updated_at = datetime.fromisoformat(r["lastUpdatedAt"])
        job._rollouts_simulated = r.get("simulated", False)  # type: ignore[attr-defined]
        if r.get("completedAt"):
            job.completed_at = datetime.fromisoformat(r["completedAt"])  # type: ignore[assignment]
        job_tags(b)[job.job_arn] = dict(r["tags"])
