"""Checks the emulator hands out SQS messages as fair queues do (infra/emulator/serve.py).

On a standard queue, a "noisy" message group (here 30 messages, 10 of them received and in
flight) must not delay a quiet group's message sent after all of them: the next receive returns
the quiet group's message first. A bare moto server returns the noisy group's messages in
arrival order, so the quiet message would come after the other 20.

Usage: AWS_ENDPOINT_URL=... python fair_check.py   (run by infra/scripts/test.sh)
"""

import os
import sys
import uuid

import boto3


def main() -> int:
    sqs = boto3.client(
        "sqs",
        endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    url = sqs.create_queue(QueueName=f"fair-check-{uuid.uuid4()}")["QueueUrl"]
    try:
        for start in range(0, 30, 10):
            entries = [
                {"Id": str(i), "MessageBody": f"noisy-{i}", "MessageGroupId": "acct_noisy"}
                for i in range(start, start + 10)
            ]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        sqs.send_message(QueueUrl=url, MessageBody="quiet-0", MessageGroupId="acct_quiet")
        first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)["Messages"]
        if len(first) != 10:
            print(f"fair_check: expected 10 messages on the first receive, got {len(first)}", file=sys.stderr)
            return 1
        # The noisy group now has 10 in flight; the quiet one none.
        second = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=60)["Messages"]
        if second[0]["Body"] != "quiet-0":
            print(f"fair_check: a quiet group waited behind a noisy one: got {second[0]['Body']}", file=sys.stderr)
            return 1
    finally:
        sqs.delete_queue(QueueUrl=url)
    print("fair_check: the quiet group's message was handed out ahead of the noisy group's backlog")
    return 0


if __name__ == "__main__":
    sys.exit(main())
