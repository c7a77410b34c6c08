using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;

namespace Strata.Transport;

internal sealed partial class PeerConnection
{
    // The bulk frame being reassembled (read loop only).
    private byte[]? _bulkIn;
    private int _bulkFilled;

    /// <summary>Parses records until the connection ends; delivers each frame whole, once, in the order received.</summary>
    private async Task ReadLoopAsync(CancellationToken cancellationToken)
    {
        // The idle timer cancels a read that waited IdleTimeout for data; every read result restarts it.
        var idle = _transport.Options.IdleTimeout;
        var timedOut = 0;
        using var idleTimer = _transport.Options.TimeProvider.CreateTimer(_ =>
        {
            Volatile.Write(ref timedOut, 1);
            try
            {
                _reader.CancelPendingRead();
            }
            catch (InvalidOperationException)
            {
                // The reader already completed: the connection is closing anyway.
            }
        }, null, idle, Timeout.InfiniteTimeSpan);
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (result.IsCanceled && Volatile.Read(ref timedOut) == 1)
                {
                    SetReason(string.Create(CultureInfo.InvariantCulture, $"received nothing for {idle.TotalSeconds:0.#} s (the connection is dead)"));
                    TransportLog.IdleTimeout(_transport.Logger, _link.NodeId, idle.TotalSeconds);
                    _reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                    return;
                }

                idleTimer.Change(idle, Timeout.InfiniteTimeSpan);
                var buffer = result.Buffer;
                try
                {
                    while (WireRecord.TryRead(ref buffer, WireRecord.MaxPayload, out var kind, out var payload))
                    {
                        Handle(kind, payload);
                    }
                }
                finally
                {
                    // Whatever is left is an incomplete record: all of it examined, none consumed.
                    _reader.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted)
                {
                    SetReason(buffer.IsEmpty && _bulkIn is null ? "closed by the peer" : "closed by the peer in the middle of a frame");
                    return;
                }

                // Inbound backpressure: stop reading (TCP then slows the sender) while the drive loop is behind.
                await _transport.WaitForInboundSpaceAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (WireProtocolException e)
        {
            if (e.IsCorruption)
            {
                _link.CountCorrupt();
            }

            SetReason(e.Message);
            TransportLog.ProtocolViolation(_transport.Logger, _link.NodeId, e.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped: the reason was recorded by whoever stopped us.
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            SetReason(e.Message);
        }
        catch (Exception e)
        {
            SetReason($"unexpected error: {e.Message}");
            TransportLog.UnexpectedError(_transport.Logger, _link.NodeId, e);
        }
    }

    private void Handle(RecordKind kind, ReadOnlySequence<byte> payload)
    {
        var maxFrame = _transport.Options.MaxFrameSize;
        switch (kind)
        {
            case RecordKind.Frame:
                if (payload.Length > maxFrame)
                {
                    throw new WireProtocolException($"frame of {payload.Length} bytes exceeds the maximum of {maxFrame}", corrupt: true);
                }

                Deliver(payload.ToArray());
                break;

            case RecordKind.BulkBegin:
                if (_bulkIn is not null)
                {
                    throw new WireProtocolException("bulk frame begun while another is in progress", corrupt: true);
                }

                if (payload.Length < 4)
                {
                    throw new WireProtocolException("bulk frame header is truncated", corrupt: true);
                }

                Span<byte> total = stackalloc byte[4];
                payload.Slice(0, 4).CopyTo(total);
                var length = BinaryPrimitives.ReadUInt32LittleEndian(total);
                var data = payload.Slice(4);
                if (length == 0 || length > (uint)maxFrame || data.Length > length)
                {
                    throw new WireProtocolException($"bulk frame of {length} bytes (first chunk {data.Length}) is not allowed (maximum {maxFrame})", corrupt: true);
                }

                // Allocated once the announced size is checked against the limit; filled chunk by chunk.
                _bulkIn = new byte[length];
                _bulkFilled = 0;
                AppendBulk(data);
                break;

            case RecordKind.BulkPart:
                if (_bulkIn is null)
                {
                    throw new WireProtocolException("bulk chunk without a bulk frame in progress", corrupt: true);
                }

                if (payload.Length > _bulkIn.Length - _bulkFilled)
                {
                    throw new WireProtocolException($"bulk chunk overruns its frame of {_bulkIn.Length} bytes", corrupt: true);
                }

                AppendBulk(payload);
                break;

            case RecordKind.KeepAlive:
                // Receiving it restarted the idle timer; its payload, when present, is the peer's clock reading.
                if (payload.Length == 8)
                {
                    Span<byte> reading = stackalloc byte[8];
                    payload.CopyTo(reading);
                    _link.Clock.Add(ClockNanos(_transport.Options.NodeClock), BinaryPrimitives.ReadInt64LittleEndian(reading));
                }

                break;

            default:
                throw new WireProtocolException($"unexpected {kind} record on an established connection", corrupt: true);
        }
    }

    private void AppendBulk(ReadOnlySequence<byte> data)
    {
        data.CopyTo(_bulkIn.AsSpan(_bulkFilled));
        _bulkFilled += (int)data.Length;
        if (_bulkFilled == _bulkIn!.Length)
        {
            var frame = _bulkIn;
            _bulkIn = null;
            _bulkFilled = 0;
            Deliver(frame);
        }
    }

    private void Deliver(byte[] frame)
    {
        _link.CountIn(frame.Length);
        _transport.Deliver(frame);
    }
}
