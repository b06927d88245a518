"""moto's SQS made fit for the local emulator (see serve.py): cheap scans, deletes and sends on a
queue holding thousands of messages, a receive that hands a message to one consumer, and the
receive order of SQS fair queues.

moto's SQS scans every queued message on most calls and reads the clock slowly for each;
`fast_sqs_scans` makes the same scans cheap, `fast_sqs_deletes` finds a receipt handle's
message without walking the queue and `cheap_standard_sends` spares a send the queue's counts,
so a queue holding a thousand messages stays fast.

SQS fair queues: on a standard queue, messages sent with a MessageGroupId (our deliveries
queues use the account) are handed out so that one group's backlog does not delay the others:
AWS picks messages of "quiet" groups (few messages in flight) before those of a noisy one.
moto stores the group id but serves messages in arrival order, so a local fairness figure
would measure nothing. `fair_queue_order` emulates the documented behaviour: each receive
considers the visible messages ordered by how many messages their group has in flight
(received and not yet deleted or visible again), fewest first, arrival order within a group.
AWS's exact algorithm is not published; this is the behaviour it documents, not its code."""

import functools
import threading
from collections import Counter

from moto.sqs.models import Queue


def apply() -> None:
    fast_sqs_scans()
    fast_sqs_deletes()
    cheap_standard_sends()
    fair_queue_order()
    atomic_receives()


def fast_sqs_scans() -> None:
    """moto's SQS scans every message of a queue on most calls (every send computes the queue's
    attributes, approximate counts included; every receive lists the visible messages), and reads
    the clock through datetime arithmetic (about 7 µs) once per message per scan. With 1,000
    messages queued, one SendMessageBatch took 100 ms and draining them with 10 consumers 57 s:
    the emulator, not the product, became the bottleneck of the fair-delivery benchmark. The
    same scans here read the clock once per scan, with the same comparisons as moto's
    `Message.visible` and `Message.delayed`."""
    import time

    import moto.core.utils as utils
    import moto.sqs.models as sqs_models

    slow_unix_time = utils.unix_time

    def unix_time(dt=None):
        return time.time() if dt is None else slow_unix_time(dt)

    def unix_time_millis(dt=None):
        return unix_time(dt) * 1000.0

    sqs_models.unix_time = unix_time
    sqs_models.unix_time_millis = unix_time_millis
    # Queue attributes convert the same dozen names on every send: convert each once.
    sqs_models.camelcase_to_underscores = functools.lru_cache(maxsize=256)(utils.camelcase_to_underscores)

    def visible_messages(self):
        now = time.time() * 1000.0
        return [m for m in list(self._messages) if now > m.visible_at and not now < m.delayed_until]

    def delayed_count(self):
        now = time.time() * 1000.0
        return sum(1 for m in list(self._messages) if now < m.delayed_until)

    def not_visible_count(self):
        now = time.time() * 1000.0
        return sum(1 for m in list(self._messages) if not now > m.visible_at)

    Queue.messages = property(visible_messages)
    Queue.approximate_number_of_messages_delayed = property(delayed_count)
    Queue.approximate_number_of_messages_not_visible = property(not_visible_count)


def fast_sqs_deletes() -> None:
    """moto finds the message of a receipt handle by walking the whole queue twice, building a
    list of every message's handles on each step (`Message.all_receipt_handles` is a property):
    with a thousand messages queued one DeleteMessageBatch of ten walked 20,000 of them. Moving
    a flood's backlog to the slow lane (a receive, a send and a delete per ten messages) then
    kept the emulator's one core busy for seconds, and every other account's calls waited for
    it. Here each handle is noted when it is issued, so a delete finds its message at once;
    the checks and the outcome are moto's (an unknown handle, or one of another queue, is
    refused; a handle already deleted is accepted again)."""
    import weakref

    from moto.sqs.exceptions import ReceiptHandleIsInvalid
    from moto.sqs.models import Message

    owners = weakref.WeakValueDictionary()
    received = Message.mark_received

    def mark_received(self, visibility_timeout=None):
        received(self, visibility_timeout)
        owners[self.receipt_handle] = self

    def delete_message(self, receipt_handle):
        if receipt_handle in self.deleted_messages:
            return
        message = owners.get(receipt_handle)
        if message is None or not any(m is message for m in self._messages):
            raise ReceiptHandleIsInvalid()
        self.pending_messages.discard(message)
        self.deleted_messages.update(message.all_receipt_handles)
        self._messages = [m for m in self._messages if m is not message]

    Message.mark_received = mark_received
    Queue.delete_message = delete_message


def cheap_standard_sends() -> None:
    """moto's SendMessage reads the queue's whole attribute set to look up one FIFO attribute
    (ContentBasedDeduplication), and that set includes the three approximate counts, each a
    scan of every message: with a thousand queued, each message of a SendMessageBatch scanned
    the queue three times. A standard queue has no such attribute, so while a send runs its
    attribute set is empty; FIFO queues and every other caller get the full set."""
    import threading

    from moto.sqs.models import SQSBackend

    sending = threading.local()
    full = Queue.attributes.fget
    send = SQSBackend.send_message

    def attributes(self):
        if getattr(sending, "now", False) and not self.fifo_queue:
            return {}
        return full(self)

    def send_message(self, *args, **kwargs):
        sending.now = True
        try:
            return send(self, *args, **kwargs)
        finally:
            sending.now = False

    Queue.attributes = property(attributes)
    SQSBackend.send_message = send_message


def atomic_receives() -> None:
    """moto's ReceiveMessage checks that a message is visible and then marks it received, with
    nothing held in between: two consumers polling one queue can both take the same message.
    SQS hands a message to one consumer per visibility timeout in practice, and our tests rely on
    it: with Python's thread switches made ten times as frequent (tried, then dropped for this),
    two fan-out pollers took one event at the same millisecond and the Jira test saw two issues. Here the check-and-take of
    each receive holds a per-queue lock; the long poll waits outside it, as moto's own does."""
    import time

    from moto.sqs.models import SQSBackend

    receive = SQSBackend.receive_message

    def receive_message(self, queue_name, count, wait_seconds_timeout, visibility_timeout, message_attribute_names=None):
        queue = self.get_queue(queue_name)
        # dict.setdefault is one step under the GIL: every caller gets the same lock.
        lock = queue.__dict__.setdefault("_apviso_receive_lock", threading.Lock())
        deadline = time.time() + wait_seconds_timeout
        while True:
            with lock:
                taken = receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            left = deadline - time.time()
            if taken or left <= 0:
                return taken
            queue.wait_for_messages(min(1.0, left))

    SQSBackend.receive_message = receive_message


def fair_queue_order() -> None:
    """Make `Queue.messages` (what ReceiveMessage walks) list quiet groups' messages first on
    standard queues. FIFO queues and messages without a group keep moto's order."""
    arrival_order = Queue.messages.fget

    def messages(self):
        visible = arrival_order(self)
        if self.fifo_queue or not any(m.group_id for m in visible):
            return visible
        # list() copies the set in one step under the GIL; iterating it in Python while other
        # request threads add and remove messages raises "Set changed size during iteration".
        pending = list(self.pending_messages)
        in_flight = Counter(m.group_id for m in pending if m.group_id and not m.visible)
        # sorted() is stable: arrival order holds within a group and among equals.
        return sorted(visible, key=lambda m: in_flight[m.group_id] if m.group_id else 0)

    Queue.messages = property(messages)
    # Only a receive needs the order. moto also counts visible messages through `messages` on
    # every send (a SendMessage reads the queue's attributes, ApproximateNumberOfMessages among
    # them) and re-lists them on every wake-up of a long poll: with a thousand messages queued,
    # sorting them there made each SendMessageBatch of ten sort the queue ten times.
    Queue.approximate_number_of_messages = property(lambda self: len(arrival_order(self)))

    def wait_for_messages(self, timeout):
        with self._messages_lock:
            self._messages_lock.wait_for(lambda: arrival_order(self), timeout=timeout)

    Queue.wait_for_messages = wait_for_messages
    # moto's own receive iterates the in-flight set the same way (to skip busy FIFO groups);
    # with several consumers per queue that raised in the middle of a receive, after messages
    # had been marked received: they then stayed invisible until their visibility timeout.
    Queue.pending_message_groups = property(
        lambda self: {m.group_id for m in list(self._pending_messages) if m.group_id is not None}
    )
