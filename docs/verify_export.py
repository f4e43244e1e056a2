"""Verify a ks-engine audit export (JSON Lines) without ks-engine: Python 3.9+ and the
``cryptography`` package only. Usage: ``python verify_export.py export.jsonl [public_key.pem]``.

Give the engine's public key as you received it from the municipality (not from the file) to
check that the checkpoints were signed by that engine. Exit status 0: the export is intact.
The rules it checks are described in docs/audit.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

GENESIS = "0" * 64


def canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_signature(key: Ed25519PublicKey, cp: dict) -> bool:
    message = canonical({k: cp[k] for k in ("format", "position", "head", "events", "signed_at")})
    try:
        key.verify(base64.b64decode(cp["signature"]), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def verify(lines: list[dict], key_pem: str | None) -> list[str]:
    """Every problem found (empty: the export is intact)."""
    header, links = lines[0], [x for x in lines if x.get("kind") == "link"]
    cps = {x["role"]: x for x in lines if x.get("kind") == "checkpoint"}
    problems: list[str] = []
    key = load_pem_public_key((key_pem or header["public_key_pem"]).encode())
    if not isinstance(key, Ed25519PublicKey):
        return ["the public key is not an Ed25519 key"]
    for role, cp in cps.items():
        if not check_signature(key, cp):
            problems.append(f"the {role} checkpoint (position {cp['position']}) is not signed")
    if "end" not in cps or not links:
        return [*problems, "the export has no end checkpoint or no chain links"]
    start, end = cps.get("start"), cps["end"]
    prev = start["head"] if start else GENESIS
    expected_position = start["position"] + 1 if start else 1
    if links[0]["position"] != expected_position:
        problems.append(f"the chain does not start right after position {expected_position - 1}")
    events = 0
    for link in links:
        where = f"position {link['position']}"
        if link["prev"] != prev:
            problems.append(f"{where}: not chained to the link before it")
        recomputed = {"position": link["position"], "prev": link["prev"], "body": link["body_hash"]}
        if sha256(canonical(recomputed)) != link["link_hash"]:
            problems.append(f"{where}: its link hash does not match its content")
        if "event" in link:
            events += 1
            body, event = link["body"], link["event"]
            if sha256(canonical(body)) != link["body_hash"]:
                problems.append(f"{where}: the link's body does not match its hash")
            if sha256(canonical(event)) != body["summary_hash"]:
                problems.append(
                    f"{where}: event {event['version']} of case {event['case']} was altered"
                )
            if (event["case"], event["version"]) != (body["aggregate"], body["version"]):
                problems.append(f"{where}: the event is not the one sealed at this position")
            if event["municipality"] != header["municipality"]:
                problems.append(f"{where}: the event is of another municipality")
        prev = link["link_hash"]
    if links[-1]["position"] != end["position"] or prev != end["head"]:
        problems.append(f"the chain does not end at the signed head (position {end['position']})")
    if end["events"] - (start["events"] if start else 0) != len(links):
        problems.append("the number of links differs from what the checkpoints were signed over")
    if not problems:
        print(f"intact: {events} events, {len(links)} chain links, up to {end['position']}")
    return problems


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="ascii") as f:
        lines = [json.loads(line) for line in f if line.strip()]
    key_pem = None
    if len(argv) > 2:
        with open(argv[2], encoding="ascii") as f:
            key_pem = f.read()
    problems = verify(lines, key_pem)
    for problem in problems:
        print(f"BROKEN: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
