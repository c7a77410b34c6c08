using System.Text.Json.Serialization;

namespace Strata.Bench;

/// <summary>The logical operations a workload issues; each has its own latency histogram in the results.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<OperationKind>))]
public enum OperationKind
{
    /// <summary>Point read of one entry (a key get).</summary>
    Stat,

    /// <summary>Create of a new object (a put).</summary>
    Create,

    /// <summary>One page of a directory listing (a prefix range).</summary>
    List,

    /// <summary>Rename of an object within its directory.</summary>
    Rename,

    /// <summary>Put guarded by if-generation-match (a compare-and-swap); a lost race is a conflict, not an error.</summary>
    ConditionalUpdate,
}
