using Google.Protobuf;
using Grpc.Core;

namespace Strata.Client.Tests;

/// <summary>
/// A call invoker that answers unary calls from a script: each attempt takes the next outcome (a response or
/// a status), and every attempt is recorded with its request and call options.
/// </summary>
internal sealed class ScriptedInvoker : CallInvoker
{
    private readonly Lock _gate = new();
    private readonly Queue<Func<IMessage>> _outcomes = new();
    private readonly List<RecordedCall> _calls = [];

    /// <summary>Runs before each attempt answers (e.g. to advance a manual clock).</summary>
    public Action<RecordedCall>? OnAttempt { get; init; }

    /// <summary>Answer used once the script is exhausted; null fails the test.</summary>
    public Func<IMessage>? Otherwise { get; init; }

    public IReadOnlyList<RecordedCall> Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    public ScriptedInvoker Then(IMessage response)
    {
        _outcomes.Enqueue(() => response);
        return this;
    }

    public ScriptedInvoker ThenFail(StatusCode status, string detail = "scripted failure", Metadata? trailers = null)
    {
        _outcomes.Enqueue(() => throw new RpcException(new Status(status, detail), trailers ?? []));
        return this;
    }

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        RecordedCall call;
        Func<IMessage> outcome;
        lock (_gate)
        {
            var message = (IMessage)request;
            call = new RecordedCall(method.Name, message.Descriptor.Parser.ParseFrom(message.ToByteArray()), options);
            _calls.Add(call);
            outcome = _outcomes.Count > 0
                ? _outcomes.Dequeue()
                : Otherwise ?? throw new InvalidOperationException($"unscripted call {method.Name}");
        }

        OnAttempt?.Invoke(call);
        Task<TResponse> response;
        try
        {
            response = Task.FromResult((TResponse)outcome());
        }
        catch (RpcException e)
        {
            response = Task.FromException<TResponse>(e);
        }

        return new AsyncUnaryCall<TResponse>(response, Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
    }

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        throw new NotSupportedException();

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) => throw new NotSupportedException();

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options) => throw new NotSupportedException();
}

internal sealed record RecordedCall(string Method, IMessage Request, CallOptions Options);
