namespace Strata.Linearizability;

/// <summary>
/// One operation of a concurrent history: what a client asked (<see cref="Input"/>), what it was told
/// (<see cref="Output"/>) and the interval of real time during which it was outstanding.
/// </summary>
/// <remarks>
/// <para>
/// Times are any monotonic scale the recorder likes (nanoseconds, ticks, event indices); only their order
/// matters. Two operations are concurrent unless one's <see cref="Return"/> is strictly before the
/// other's <see cref="Call"/>: an operation returning at the same instant another is called may be
/// ordered either way.
/// </para>
/// <para>
/// An operation whose outcome is unknown (a timeout, a crash, Jepsen's <c>:info</c>) has
/// <see cref="Return"/> = <see cref="long.MaxValue"/>; its <see cref="Output"/> is ignored. The checker
/// lets such an operation take effect at any point after its call, or never.
/// </para>
/// </remarks>
/// <param name="ClientId">The client (Jepsen "process") that issued the operation; used in explanations only.</param>
/// <param name="Input">The request, in the model's terms.</param>
/// <param name="Output">The response, in the model's terms; ignored when the outcome is unknown.</param>
/// <param name="Call">The time the request was issued.</param>
/// <param name="Return">The time the response was received, or <see cref="long.MaxValue"/> when the outcome is unknown.</param>
public sealed record Operation<TInput, TOutput>(int ClientId, TInput Input, TOutput? Output, long Call, long Return)
{
    /// <summary>The value of <see cref="Return"/> that marks an operation whose outcome is unknown.</summary>
    public const long UnknownReturn = long.MaxValue;

    /// <summary>True when the operation never definitely completed (its outcome is unknown).</summary>
    public bool OutcomeUnknown => Return == UnknownReturn;

    /// <summary>An operation whose outcome is unknown: it may take effect at any time after <paramref name="call"/>, or never.</summary>
    public static Operation<TInput, TOutput> Indeterminate(int clientId, TInput input, long call) =>
        new(clientId, input, default, call, UnknownReturn);
}
