//! SQS's size limits, and packing messages into SendMessageBatch calls that respect them.
//! Both are documented AWS quotas (raised from 256 KiB to 1 MiB in 2025) that moto enforces too.

/// Largest message SQS accepts: body plus message attributes (names, types and values).
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// Largest SendMessageBatch: the sum of every entry's message.
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;
/// Entries per SendMessageBatch.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// The queues' `maxReceiveCount`: after this many receives SQS moves a message to its
/// dead-letter queue by itself, without our reason. The consumers therefore park a record that
/// fails on its last receive themselves, with the error as the reason.
pub const MAX_RECEIVES: u32 = 5;

/// Splits messages of the given sizes, in order, into consecutive batches of at most
/// [`MAX_BATCH_ENTRIES`] entries and [`MAX_BATCH_BYTES`] bytes. Each batch is a range of
/// indexes. A message that alone exceeds the batch limit still gets a batch of its own, so SQS
/// (not this function) refuses it and the caller sees why; callers keep messages under
/// [`MAX_MESSAGE_BYTES`] by construction.
pub fn batches(sizes: &[usize]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0usize);
    for (i, &size) in sizes.iter().enumerate() {
        let full = i - start == MAX_BATCH_ENTRIES || bytes.saturating_add(size) > MAX_BATCH_BYTES;
        if i > start && full {
            out.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes = bytes.saturating_add(size);
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIB: usize = 1024;

    #[test]
    fn small_messages_go_ten_at_a_time() {
        assert_eq!(batches(&[100; 25]), vec![0..10, 10..20, 20..25]);
        assert!(batches(&[]).is_empty());
    }

    #[test]
    fn large_messages_are_packed_by_bytes() {
        // Ten 150 KiB messages: 1,500 KiB would be one batch by count; six fit in 1 MiB.
        assert_eq!(batches(&[150 * KIB; 10]), vec![0..6, 6..10]);
        // Four of 256 KiB fill 1 MiB exactly; the fifth starts a new batch.
        assert_eq!(batches(&[256 * KIB; 5]), vec![0..4, 4..5]);
        assert_eq!(batches(&[1024 * KIB, 1, 1024 * KIB]), vec![0..1, 1..2, 2..3]);
    }

    #[test]
    fn an_oversized_message_gets_a_batch_of_its_own() {
        assert_eq!(batches(&[10, 2048 * KIB, 10]), vec![0..1, 1..2, 2..3]);
    }

    #[test]
    fn every_batch_respects_both_limits() {
        let sizes: Vec<usize> = (0..200).map(|i| (i * 7919) % (300 * KIB) + 1).collect();
        let all = batches(&sizes);
        assert_eq!(all.iter().map(|r| r.len()).sum::<usize>(), sizes.len());
        for range in all {
            assert!(range.len() <= 10);
            assert!(sizes[range].iter().sum::<usize>() <= 1024 * KIB);
        }
    }
}
