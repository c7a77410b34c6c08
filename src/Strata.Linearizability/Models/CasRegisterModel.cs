using System.Globalization;

namespace Strata.Linearizability.Models;

/// <summary>What a register operation asks for.</summary>
public enum CasRegisterOp
{
    /// <summary>Read the current value.</summary>
    Read,

    /// <summary>Set the value unconditionally.</summary>
    Write,

    /// <summary>Set the value to <see cref="CasRegisterInput.Value"/> if it currently equals <see cref="CasRegisterInput.Expected"/>.</summary>
    Cas,
}

/// <summary>A request to a compare-and-set register.</summary>
/// <param name="Kind">Read, write or compare-and-set.</param>
/// <param name="Value">The value written (write) or the new value (cas); unused for reads.</param>
/// <param name="Expected">The value a cas compares against; unused otherwise.</param>
public readonly record struct CasRegisterInput(CasRegisterOp Kind, long Value, long Expected)
{
    /// <summary>A read.</summary>
    public static CasRegisterInput Read() => new(CasRegisterOp.Read, 0, 0);

    /// <summary>An unconditional write of <paramref name="value"/>.</summary>
    public static CasRegisterInput Write(long value) => new(CasRegisterOp.Write, value, 0);

    /// <summary>A compare-and-set from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static CasRegisterInput Cas(long from, long to) => new(CasRegisterOp.Cas, to, from);
}

/// <summary>The response of a compare-and-set register. The default value means "no response" (outcome unknown).</summary>
/// <param name="HasResult">False for the default value (no response known).</param>
/// <param name="Value">For a read: the value read, or null when the register was absent.</param>
/// <param name="Succeeded">For a cas: whether the compare matched and the value was replaced.</param>
public readonly record struct CasRegisterOutput(bool HasResult, long? Value, bool Succeeded)
{
    /// <summary>A read that returned <paramref name="value"/> (null: the register was absent).</summary>
    public static CasRegisterOutput ReadResult(long? value) => new(true, value, false);

    /// <summary>An acknowledged write.</summary>
    public static CasRegisterOutput WriteDone => new(true, null, true);

    /// <summary>A cas that succeeded or definitely failed its compare.</summary>
    public static CasRegisterOutput CasResult(bool succeeded) => new(true, null, succeeded);
}

/// <summary>
/// A single compare-and-set register holding a 64-bit value, initially absent (reads return null until the
/// first write). A failed cas means the value was not the expected one at its linearization point and
/// nothing changed. State: the current value, null when absent.
/// </summary>
/// <remarks>Stateless and thread-safe; use <see cref="Instance"/>.</remarks>
public sealed class CasRegisterModel : IModel<long?, CasRegisterInput, CasRegisterOutput>
{
    /// <summary>The shared instance.</summary>
    public static CasRegisterModel Instance { get; } = new();

    /// <inheritdoc/>
    public long? Init() => null;

    /// <inheritdoc/>
    public (bool Ok, long? Next) Step(long? state, CasRegisterInput input, CasRegisterOutput output, bool outcomeUnknown)
    {
        switch (input.Kind)
        {
            case CasRegisterOp.Read:
                return (outcomeUnknown || output.Value == state, state);
            case CasRegisterOp.Write:
                return (true, input.Value);
            case CasRegisterOp.Cas:
                var matches = state == input.Expected;
                if (outcomeUnknown)
                {
                    return (true, matches ? input.Value : state);
                }

                return output.Succeeded ? (matches, input.Value) : (!matches, state);
            default:
                throw new ArgumentOutOfRangeException(nameof(input), input.Kind, "Unknown register operation.");
        }
    }

    /// <inheritdoc/>
    public string Describe(CasRegisterInput input, CasRegisterOutput output) => input.Kind switch
    {
        CasRegisterOp.Read => output.HasResult ? "read -> " + Show(output.Value) : "read",
        CasRegisterOp.Write => "write " + Show(input.Value),
        CasRegisterOp.Cas => string.Create(CultureInfo.InvariantCulture, $"cas {input.Expected} -> {input.Value}")
            + (output.HasResult ? (output.Succeeded ? " ok" : " failed") : string.Empty),
        _ => input.Kind.ToString(),
    };

    /// <inheritdoc/>
    public string DescribeState(long? state) => Show(state);

    private static string Show(long? value) => value is { } v ? v.ToString(CultureInfo.InvariantCulture) : "absent";
}
