"""Checks the emulator gives DynamoDB's guarantee for conditional writes under concurrency.

Six threads race `UpdateItem ... ConditionExpression "v = :expected"` on one item, 40 rounds;
exactly one may win each round. A bare moto server lets two win in several rounds (4 of 40 when
this was written); infra/emulator/serve.py must let exactly one win every time.

Usage: AWS_ENDPOINT_URL=... python race_check.py   (run by infra/scripts/test.sh)
"""

import os
import sys
import threading
import uuid

import boto3

WRITERS, ROUNDS = 6, 40


def client():
    return boto3.client(
        "dynamodb",
        endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def main() -> int:
    table = f"race-check-{uuid.uuid4()}"
    admin = client()
    admin.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    writers = [client() for _ in range(WRITERS)]
    bad_rounds = 0
    try:
        for _ in range(ROUNDS):
            admin.put_item(TableName=table, Item={"pk": {"S": "x"}, "v": {"N": "0"}})
            winners = []
            barrier = threading.Barrier(WRITERS)

            def write(i):
                barrier.wait()
                try:
                    writers[i].update_item(
                        TableName=table,
                        Key={"pk": {"S": "x"}},
                        UpdateExpression="SET v = :next, w = :who",
                        ConditionExpression="v = :expected",
                        ExpressionAttributeValues={
                            ":next": {"N": "1"},
                            ":expected": {"N": "0"},
                            ":who": {"N": str(i)},
                        },
                    )
                    winners.append(i)
                except writers[i].exceptions.ConditionalCheckFailedException:
                    pass

            threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if len(winners) != 1:
                bad_rounds += 1
    finally:
        admin.delete_table(TableName=table)
    print(f"emulator race check: {bad_rounds} of {ROUNDS} rounds had other than one winner")
    return 1 if bad_rounds else 0


if __name__ == "__main__":
    sys.exit(main())
