namespace Strata.Bench;

/// <summary>How one operation ended.</summary>
public enum OperationOutcome
{
    /// <summary>The node did what was asked.</summary>
    Success,

    /// <summary>A conditional update found another generation: the node refused it and changed nothing (expected under contention).</summary>
    Conflict,

    /// <summary>Anything else: a refusal or a failure to get an answer.</summary>
    Error,
}
