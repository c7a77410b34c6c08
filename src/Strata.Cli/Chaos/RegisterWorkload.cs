using System.Globalization;
using Grpc.Core;
using Strata.Api.V1;
using Strata.Client;
using Strata.Linearizability.Models;

namespace Strata.Cli.Chaos;

/// <summary>Where the workload waits before an operation: the fault scheduler holds it at a fault's starting point until it takes the fault up.</summary>
internal interface IOperationGate
{
    /// <summary>Completes when operation <paramref name="index"/> may be started.</summary>
    ValueTask BeforeOperationAsync(int index, CancellationToken cancellationToken);
}

/// <summary>
/// The register workload of <c>strata chaos</c>: <see cref="ChaosOptions.Clients"/> clients, each with its own
/// <see cref="StrataClient"/>, issue <see cref="ChaosOptions.Operations"/> operations in total over
/// <see cref="ChaosOptions.Keys"/> registers (the <c>size</c> of objects <c>registers/r000</c>, ...): 50% reads
/// (Stat), 30% writes (PutObject) and 20% compare-and-sets (PutObject with if-generation-match), each client one
/// operation at a time, and record every call and answer in a <see cref="ChaosHistory"/>. Writes and cas go through
/// the client's shard-aware route; reads go where <see cref="ReadRouter"/> sends them (<see cref="ChaosOptions.Reads"/>).
/// </summary>
/// <remarks>
/// <para><b>Outcomes.</b> An answer is <see cref="ChaosOutcome.Ok"/>; a read answered NOT_FOUND is an Ok read of an
/// absent register. A cas refused with FAILED_PRECONDITION is <see cref="ChaosOutcome.Failed"/> (it definitely did
/// not take effect and says the register no longer held the expected value). Other refusals that change nothing
/// (INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, ...) are Failed. Everything else — UNAVAILABLE,
/// DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, a torn connection, the run's cancellation — leaves the outcome
/// unknown: <see cref="ChaosOutcome.Indeterminate"/>, never a failure, because the mutation may have been
/// applied. Each call is retried by the client (same mutation id, so at most once) until
/// <see cref="ChaosOptions.CallTimeout"/>.</para>
/// <para><b>Cas.</b> A client only issues a cas on a key whose value and generation it saw (its own acknowledged
/// write or cas, or a read); it then expects that value, sending that generation as the precondition. Values are
/// unique in the run (operation index + 1), so a generation names exactly one value. A client with nothing known
/// about the key reads it instead.</para>
/// <para><b>Determinism.</b> Each client draws keys, kinds and its pacing from its own seeded random source; which
/// operation index a client takes depends on timing.</para>
/// <para><b>Concurrency.</b> <see cref="RunAsync"/> runs every client concurrently and is called once.</para>
/// </remarks>
internal sealed class RegisterWorkload(
    ChaosOptions options, string bucket, IReadOnlyList<StrataClient> clients, ReadRouter reads, ChaosHistory history, ChaosClock clock, IOperationGate gate,
    Action<int>? started = null)
{
    private const double ReadShare = 0.5;
    private const double WriteShare = 0.3;

    private int _next;

    /// <summary>The object path holding register <paramref name="number"/>.</summary>
    public static string Key(int number) => string.Create(CultureInfo.InvariantCulture, $"registers/r{number:D3}");

    /// <summary>Operations started so far.</summary>
    public int Started => Math.Min(Volatile.Read(ref _next), options.Operations);

    /// <summary>Runs every client until <see cref="ChaosOptions.Operations"/> operations were issued and answered (or their outcome became unknown).</summary>
    public Task RunAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(Enumerable.Range(0, clients.Count).Select(c => RunClientAsync(c, cancellationToken)));

    private async Task RunClientAsync(int client, CancellationToken cancellationToken)
    {
        await Task.Yield();
        var random = new Random(unchecked((options.Seed * 7919) + client));
        var known = new Dictionary<string, (long Value, ulong Generation)>(StringComparer.Ordinal);
        TimeSpan period = options.Rate > 0 ? TimeSpan.FromSeconds(clients.Count / options.Rate) : TimeSpan.Zero;
        long nextStart = clock.Now;
        int process = client;
        while (true)
        {
            int index = Interlocked.Increment(ref _next) - 1;
            if (index >= options.Operations)
            {
                return;
            }

            await gate.BeforeOperationAsync(index, cancellationToken).ConfigureAwait(false);
            if (period > TimeSpan.Zero)
            {
                long wait = nextStart - clock.Now;
                if (wait > 0)
                {
                    await Task.Delay(TimeSpan.FromTicks(wait / 100), cancellationToken).ConfigureAwait(false);
                }

                nextStart = Math.Max(nextStart, clock.Now) + (long)(period.TotalSeconds * 1e9);
            }

            started?.Invoke(index);
            string key = Key(random.Next(options.Keys));
            double roll = random.NextDouble();
            CasRegisterOp kind = roll < ReadShare ? CasRegisterOp.Read
                : roll < ReadShare + WriteShare ? CasRegisterOp.Write
                : known.ContainsKey(key) ? CasRegisterOp.Cas : CasRegisterOp.Read;
            ReadRoute route = kind == CasRegisterOp.Read ? reads.Route(client) : new ReadRoute(clients[client], null);
            ChaosOperation done = await ExecuteAsync(route.Client, new ChaosOperation
            {
                Node = route.Node,
                Index = index,
                Process = process,
                Client = client,
                Key = key,
                Kind = kind,
                Value = kind == CasRegisterOp.Read ? null : index + 1L,
                Expected = kind == CasRegisterOp.Cas ? known[key].Value : null,
                ExpectedGeneration = kind == CasRegisterOp.Cas ? known[key].Generation : null,
                CallNanos = 0,
                Outcome = ChaosOutcome.Indeterminate,
            }, cancellationToken).ConfigureAwait(false);
            history.Add(done);
            switch (done)
            {
                case { Outcome: ChaosOutcome.Ok, Kind: CasRegisterOp.Read, Found: true }:
                    known[key] = (done.ReadValue!.Value, done.Generation!.Value);
                    break;
                case { Outcome: ChaosOutcome.Ok, Kind: CasRegisterOp.Write or CasRegisterOp.Cas }:
                    known[key] = (done.Value!.Value, done.Generation!.Value);
                    break;
                case { Outcome: ChaosOutcome.Indeterminate }:
                    // The call may still be in flight: the client goes on as a new process, as in Jepsen.
                    known.Remove(key);
                    process += clients.Count;
                    break;
                default:
                    known.Remove(key);
                    break;
            }

            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Sends <paramref name="call"/> and returns it completed with its answer; never throws for a node's answer.</summary>
    private async Task<ChaosOperation> ExecuteAsync(StrataClient client, ChaosOperation call, CancellationToken cancellationToken)
    {
        call = call with { CallNanos = clock.Now };
        try
        {
            Entry entry = call.Kind switch
            {
                CasRegisterOp.Read => await client.StatAsync(bucket, call.Key, cancellationToken: cancellationToken).ConfigureAwait(false),
                CasRegisterOp.Write => await client.PutObjectAsync(bucket, call.Key, Attributes(call.Value!.Value), cancellationToken: cancellationToken).ConfigureAwait(false),
                _ => await client.PutObjectAsync(bucket, call.Key, Attributes(call.Value!.Value),
                    new Preconditions { IfGenerationMatch = call.ExpectedGeneration!.Value }, cancellationToken: cancellationToken).ConfigureAwait(false),
            };
            long answered = clock.Now;
            return call.Kind == CasRegisterOp.Read
                ? call with { ReturnNanos = answered, Outcome = ChaosOutcome.Ok, Found = true, ReadValue = (long)entry.Attributes.Size, Generation = entry.Generation }
                : call with { ReturnNanos = answered, Outcome = ChaosOutcome.Ok, Generation = entry.Generation };
        }
        catch (StrataException e)
        {
            return Classify(call, e, clock.Now);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            history.Add(call with { Outcome = ChaosOutcome.Indeterminate, Error = "the run was cancelled while the call was outstanding" });
            throw;
        }
        catch (OperationCanceledException e)
        {
            return call with { Outcome = ChaosOutcome.Indeterminate, Error = AttemptDeadline(e) };
        }
    }

    /// <summary>
    /// The error recorded for a call that threw <see cref="OperationCanceledException"/> although the run was not
    /// cancelled: an attempt's deadline passed. The client's channels are set to throw on cancellation, and gRPC
    /// then reports a passed deadline as a cancellation, not as DEADLINE_EXCEEDED, so the client does not retry it.
    /// </summary>
    internal static string AttemptDeadline(OperationCanceledException e) =>
        $"DeadlineExceeded: an attempt's deadline passed and the client gave up ({e.GetType().Name}, not retried)";

    /// <summary>The outcome of <paramref name="call"/> that failed with <paramref name="e"/> at <paramref name="answered"/>.</summary>
    internal static ChaosOperation Classify(ChaosOperation call, StrataException e, long answered)
    {
        string error = $"{e.StatusCode}: {e.Detail}";
        if (call.Kind == CasRegisterOp.Read && e.StatusCode == StatusCode.NotFound)
        {
            return call with { ReturnNanos = answered, Outcome = ChaosOutcome.Ok, Found = false };
        }

        if (call.Kind == CasRegisterOp.Cas && e.StatusCode == StatusCode.FailedPrecondition)
        {
            return call with { ReturnNanos = answered, Outcome = ChaosOutcome.Failed, PreconditionFailed = true, Generation = e.CurrentGeneration, Error = error };
        }

        return IsDefiniteRefusal(e.StatusCode)
            ? call with { ReturnNanos = answered, Outcome = ChaosOutcome.Failed, Error = error }
            : call with { Outcome = ChaosOutcome.Indeterminate, Error = error, Attempts = e.Attempts, Redirects = e.Redirects };
    }

    /// <summary>Statuses with which a node refuses a request before it changes anything; every other failure leaves the outcome unknown.</summary>
    internal static bool IsDefiniteRefusal(StatusCode status) => status is StatusCode.InvalidArgument or StatusCode.NotFound or StatusCode.AlreadyExists
        or StatusCode.FailedPrecondition or StatusCode.PermissionDenied or StatusCode.Unauthenticated or StatusCode.OutOfRange or StatusCode.Unimplemented;

    private static ObjectAttributes Attributes(long value) => new()
    {
        Size = (ulong)value,
        Etag = string.Create(CultureInfo.InvariantCulture, $"v{value}"),
        ContentType = "application/octet-stream",
        Tier = Tier.Ssd,
    };
}
