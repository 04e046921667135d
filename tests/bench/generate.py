"""Generated rollouts folders of realistic 40-line manifests, for benchmarks."""

from __future__ import annotations

from pathlib import Path

MANIFEST = """\
# Firmware rollout {i} for fleet {group}
description: Firmware {major}.{minor}.{i} for {group}
targets:
  - thinggroup/{group}
  - thing/canary-{i}
document:
  operation: firmware-update
  version: {major}.{minor}.{i}
  sha256: 9f2c4a1be6d07c3f5e8a2b9d1c4e7f60a3b5c8d2e1f4a7b0c3d6e9f2a5b8c{i:03d}
  url: ${{aws:iot:s3-presigned-url:https://s3.amazonaws.com/fw/{group}/{i}.bin}}
  reboot: true
  steps: [download, verify, install]
presignedUrlConfig:
  roleArn: arn:aws:iam::123456789012:role/iot-ota-presign
  expiresInSec: 3600
targetSelection: SNAPSHOT
jobExecutionsRolloutConfig:
  maximumPerMinute: 500
  exponentialRate:
    baseRatePerMinute: 20
    incrementFactor: 2.0
    rateIncreaseCriteria:
      numberOfSucceededThings: 100
abortConfig:
  criteriaList:
    - failureType: FAILED
      action: CANCEL
      thresholdPercentage: 5
      minNumberOfExecutedThings: 50
    - failureType: TIMED_OUT
      action: CANCEL
      thresholdPercentage: 10
      minNumberOfExecutedThings: 50
timeoutConfig:
  inProgressTimeoutInMinutes: 60
jobExecutionsRetryConfig:
  criteriaList:
    - failureType: TIMED_OUT
      numberOfRetries: 2
tags:
  team: firmware
"""


def make_folder(root: Path, count: int) -> Path:
    """Write ``count`` manifests, 100 to a folder, and return the rollouts folder."""
    for i in range(count):
        folder = root / f"fleet-{i // 100:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        text = MANIFEST.format(i=i, group=f"group-{i % 17}", major=2, minor=i % 9)
        (folder / f"fw-{i:05d}.yaml").write_text(text)
    return root
