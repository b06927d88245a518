"""Checks the emulator gives DynamoDB's guarantee for conditional writes under concurrency.

Six threads race `UpdateItem ... ConditionExpression "v = :expected"` on one item, 40 rounds;
exactly one may win each round. A bare moto server lets two win in several rounds (4 of 40 when
this was written); infra/emulator/serve.py must let exactly one win every time.

Then reads and writes run at once on two tables (puts, queries and transactions naming both):
serve.py lets requests on different tables, and reads of one table, run concurrently, and none
of them may fail or lose a write for it.

Usage: AWS_ENDPOINT_URL=... python race_check.py   (run by infra/scripts/test.sh)
"""

import os
import sys
import threading
import uuid

import boto3

WRITERS, ROUNDS = 6, 40
MIXED_WRITES = 30


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
    return 1 if bad_rounds or mixed_check(admin) else 0


def mixed_check(admin) -> bool:
    """True when a request failed or a write went missing while two tables were read and
    written at once."""
    names = [f"race-mixed-{uuid.uuid4()}" for _ in range(2)]
    for name in names:
        admin.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    errors = []

    def each(work):
        def run():
            c = client()
            for i in range(MIXED_WRITES):
                try:
                    work(c, i)
                except Exception as e:  # noqa: BLE001 - any failure is the finding
                    errors.append(repr(e))

        return run

    def put(name):
        return each(lambda c, i: c.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"S": f"put-{i}"}}))

    def query(name):
        values = {":p": {"S": "p"}}
        return each(lambda c, i: c.query(TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues=values))

    def both(c, i):
        item = {"pk": {"S": "p"}, "sk": {"S": f"tx-{i}"}}
        c.transact_write_items(TransactItems=[{"Put": {"TableName": n, "Item": item}} for n in names])

    def batch(name):
        # Two puts per request: the isolation holds each of its items, as PutItem holds one.
        def write(c, i):
            items = [{"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {"S": f"batch-{i}-{j}"}}}} for j in range(2)]
            c.batch_write_item(RequestItems={name: items})

        return each(write)

    work = [put(n) for n in names] + [query(n) for n in names] + [each(both)] + [batch(n) for n in names]
    threads = [threading.Thread(target=w) for w in work]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        counts = [
            admin.query(
                TableName=n,
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": "p"}},
                Select="COUNT",
            )["Count"]
            for n in names
        ]
    finally:
        for name in names:
            admin.delete_table(TableName=name)
    print(f"emulator mixed check: {len(errors)} failed requests, items per table {counts} of {4 * MIXED_WRITES}")
    for e in errors[:3]:
        print("  ", e)
    return bool(errors) or counts != [4 * MIXED_WRITES] * 2


if __name__ == "__main__":
    sys.exit(main())
