using System.Buffers.Binary;
using System.Net.Sockets;

namespace Strata.Transport;

internal sealed partial class PeerConnection
{
    /// <summary>
    /// Drains the link's queue until the connection ends. Each round writes queued small frames (up to a flush
    /// budget), then — once no small frame is left — at most one chunk of the bulk frame in progress (if the throttle
    /// allows), then flushes once: many small frames go out in few writes, and a small frame waits behind at most one
    /// chunk of bulk.
    /// </summary>
    private async Task WriteLoopAsync(CancellationToken cancellationToken)
    {
        // Bytes of small frames written per flush. Coalescing far more would hold that much pooled memory at once
        // (the pool then stops pooling and every segment becomes a fresh large-object allocation) for no fewer
        // syscalls, as the stream writes segment by segment anyway.
        const long FlushBudget = 256 << 10;

        var options = _transport.Options;
        var throttle = new BulkThrottle(options.BulkBytesPerSecond, options.BulkChunkSize, options.TimeProvider);
        var batch = new List<byte[]>();
        byte[]? bulk = null;
        var bulkSent = 0;
        var time = options.TimeProvider;
        var lastWrite = time.GetTimestamp();
        var lastReading = lastWrite;
        var reading = new byte[8];
        try
        {
            while (true)
            {
                if (!_link.TakeSmall(this, batch, FlushBudget, out var moreSmall))
                {
                    SetReason("replaced by a newer connection");
                    return;
                }

                var wrote = WriteSmall(batch);
                var wait = Timeout.InfiniteTimeSpan;
                if ((!wrote && bulk is null && time.GetElapsedTime(lastWrite) >= options.KeepAliveInterval)
                    || time.GetElapsedTime(lastReading) >= options.ClockReadingInterval)
                {
                    // Every keepalive carries a reading of the node's clock (see PeerClock).
                    BinaryPrimitives.WriteInt64LittleEndian(reading, ClockNanos(options.NodeClock));
                    WireRecord.Write(_writer, RecordKind.KeepAlive, [], reading);
                    lastReading = time.GetTimestamp();
                    wrote = true;
                }

                if (!moreSmall && bulk is null && (bulk = _link.TakeBulk(this)) is not null)
                {
                    bulkSent = 0;
                }

                // Every queued small frame goes before the next chunk, over as many flushes as it takes.
                if (bulk is not null && !moreSmall)
                {
                    var chunk = Math.Min(options.BulkChunkSize, bulk.Length - bulkSent);
                    wait = throttle.TryTake(chunk);
                    if (wait == TimeSpan.Zero)
                    {
                        WriteChunk(bulk, bulkSent, chunk);
                        bulkSent += chunk;
                        wrote = true;
                        if (bulkSent == bulk.Length)
                        {
                            _link.CountOut(1, bulk.Length);
                            bulk = null;
                        }

                        wait = Timeout.InfiniteTimeSpan;
                    }
                }

                if (wrote)
                {
                    lastWrite = time.GetTimestamp();
                    var flushed = await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                    if (flushed.IsCompleted || flushed.IsCanceled)
                    {
                        SetReason("connection closed while writing");
                        return;
                    }

                    continue;
                }

                // Nothing to write now: sleep until frames are queued, the throttle has a chunk's worth of tokens, or a
                // keepalive is due.
                var keepAliveDue = options.KeepAliveInterval - time.GetElapsedTime(lastWrite);
                var readingDue = options.ClockReadingInterval - time.GetElapsedTime(lastReading);
                if (readingDue < keepAliveDue)
                {
                    keepAliveDue = readingDue;
                }

                var sleep = keepAliveDue < TimeSpan.Zero ? TimeSpan.Zero : keepAliveDue;
                if (bulk is not null && wait < sleep)
                {
                    sleep = wait;
                }

                await _writerWake.WaitAsync(sleep, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped: the reason was recorded by whoever stopped us.
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            SetReason(e.Message);
        }
        catch (Exception e)
        {
            SetReason($"unexpected error: {e.Message}");
            TransportLog.UnexpectedError(_transport.Logger, _link.NodeId, e);
        }
        finally
        {
            if (bulk is not null)
            {
                _link.CountLost(1);
            }
        }
    }

    private bool WriteSmall(List<byte[]> batch)
    {
        if (batch.Count == 0)
        {
            return false;
        }

        long bytes = 0;
        foreach (var frame in batch)
        {
            WireRecord.Write(_writer, RecordKind.Frame, [], frame);
            bytes += frame.Length;
        }

        _link.CountOut(batch.Count, bytes);
        batch.Clear();
        return true;
    }

    private void WriteChunk(byte[] bulk, int offset, int length)
    {
        var data = bulk.AsSpan(offset, length);
        if (offset == 0)
        {
            Span<byte> total = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(total, (uint)bulk.Length);
            WireRecord.Write(_writer, RecordKind.BulkBegin, total, data);
        }
        else
        {
            WireRecord.Write(_writer, RecordKind.BulkPart, [], data);
        }
    }
}
