using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;

namespace Strata.Client;

/// <summary>
/// The .NET client of a Strata node: one async method per RPC of <c>strata.v1.Strata</c>, with per-call
/// deadlines, retries of transient failures, and exactly-once mutations.
/// </summary>
/// <remarks>
/// <para><b>Errors.</b> A refused call throws <see cref="StrataException"/> with the gRPC status, the node's
/// message and the parsed trailers; a refusal changed nothing. Cancellation through the caller's token throws
/// <see cref="OperationCanceledException"/>.</para>
/// <para><b>Deadlines.</b> Every attempt of a call gets <c>deadline</c> (or
/// <see cref="StrataClientOptions.DefaultDeadline"/>); retries get a fresh one, and
/// <see cref="RetryPolicy.MaxElapsed"/> bounds the whole call.</para>
/// <para><b>Exactly once.</b> Each client has a random 16-byte <see cref="ClientId"/>; each mutation takes the
/// next sequence number once, before its first attempt, and every retry resends the same
/// <c>MutationId</c>. The node applies a (client id, sequence) pair at most once and answers retries with the
/// first outcome, so a retry after a timeout cannot apply a mutation twice. A mutation that gives up with
/// <see cref="StatusCode.Unavailable"/> or <see cref="StatusCode.DeadlineExceeded"/> may or may not have been
/// applied; read the entry to find out. Sequences are handed out through a window
/// (<see cref="StrataClientOptions.MutationWindow"/>) so that a mutation waiting to retry is never overtaken by so
/// many newer ones that the node has forgotten it; a mutation may wait for a slot when that many are in flight.</para>
/// <para><b>One node or a cluster.</b> <see cref="Connect"/> and the invoker constructor send every call to one
/// node. <see cref="ConnectCluster"/> routes each call to the shard that owns its bucket (see there).</para>
/// <para><b>Concurrency.</b> Thread-safe: share one instance per process (it multiplexes calls over one
/// HTTP/2 channel per node). Dispose it to close the channels it opened.</para>
/// </remarks>
public sealed partial class StrataClient : IDisposable
{
    private readonly NodeConnection? _node;
    private readonly ClusterView? _cluster;
    private readonly StrataClientOptions _options;
    private readonly ByteString _clientId;
    private readonly Random _jitter;
    private readonly Lock _jitterGate = new();
    private readonly SequenceWindow _sequences;

    /// <summary>A client over an existing call invoker (a channel owned by the caller, or a test double).</summary>
    public StrataClient(CallInvoker invoker, StrataClientOptions? options = null)
        : this(new NodeConnection(invoker ?? throw new ArgumentNullException(nameof(invoker)), address: null, ownedChannel: null), cluster: null, options)
    {
    }

    private StrataClient(NodeConnection? node, ClusterView? cluster, StrataClientOptions? options)
    {
        _options = options ?? new StrataClientOptions();
        _options.Retry.Validate();
        _node = node;
        _cluster = cluster;
        _clientId = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(16));
        _sequences = new SequenceWindow(_options.MutationWindow);
        _jitter = _options.JitterSeed is int seed ? new Random(seed) : new Random(RandomNumberGenerator.GetInt32(int.MaxValue));
    }

    /// <summary>
    /// Opens an HTTP/2 channel to the node at <paramref name="address"/> (<c>http://host:port</c> for cleartext,
    /// <c>https://</c> for TLS) and returns a client that owns it. Connecting is lazy: an unreachable node is
    /// reported by the first call. Every call goes to this node (see <see cref="ConnectCluster"/> for routing over
    /// a cluster).
    /// </summary>
    public static StrataClient Connect(Uri address, StrataClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        return new StrataClient(NodeConnection.Open(address), cluster: null, options) { Address = address };
    }

    /// <summary>The node's address when the client was made by <see cref="Connect"/>.</summary>
    public Uri? Address { get; private init; }

    /// <summary>This client's identity for exactly-once mutations (16 random bytes).</summary>
    public ReadOnlyMemory<byte> ClientId => _clientId.Memory;

    /// <summary>The settings the client was made with.</summary>
    public StrataClientOptions Options => _options;

    /// <summary>Closes the channels the client opened (<see cref="Connect"/>: one; <see cref="ConnectCluster"/>: one
    /// per node it talked to).</summary>
    public void Dispose()
    {
        _node?.Dispose();
        _cluster?.Dispose();
    }

}
