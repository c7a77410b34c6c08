using System.Globalization;
using System.Text;

namespace Strata.Api;

/// <summary>Names of the trailers a Strata node attaches to refusals (see strata.proto).</summary>
public static class StrataTrailers
{
    /// <summary>
    /// Encodes a trailer value in the <c>grpc-message</c> scheme: bytes of the UTF-8 outside printable ASCII, and
    /// '%', become %XX; everything else is itself (header values must be ASCII).
    /// </summary>
    public static string EncodeText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var encoded = new StringBuilder(text.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(text))
        {
            if (b is >= 0x20 and <= 0x7E and not (byte)'%')
            {
                encoded.Append((char)b);
            }
            else
            {
                encoded.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return encoded.ToString();
    }

    /// <summary>The shard that served (or refused) a shard-scoped call (see cluster.proto).</summary>
    public const string Shard = "strata-shard";

    /// <summary>Node id of the shard's leader as the answering node sees it; on a refusal by a node without a
    /// replica, a node that has one.</summary>
    public const string Leader = "strata-leader";

    /// <summary>host:port of strata.v1 on the node named by <see cref="Leader"/> (refusals only).</summary>
    public const string LeaderAddress = "strata-leader-address";

    /// <summary>The current generation of the entry that failed a precondition or already exists.</summary>
    public const string CurrentGeneration = "strata-current-generation";

    /// <summary>The current metageneration of that entry.</summary>
    public const string CurrentMetageneration = "strata-current-metageneration";

    /// <summary>The path of the entry that failed, percent-encoded like <c>grpc-message</c> (see <see cref="DecodeText"/>).</summary>
    public const string FailedPath = "strata-failed-path";

    /// <summary>Transactions: the zero-based index of the operation that failed.</summary>
    public const string FailedOperation = "strata-failed-operation";

    /// <summary>
    /// Decodes a trailer value in the <c>grpc-message</c> scheme: %XX is a byte of UTF-8, everything else is
    /// itself. Malformed escapes are kept as they are.
    /// </summary>
    public static string DecodeText(string encoded)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        if (!encoded.Contains('%', StringComparison.Ordinal))
        {
            return encoded;
        }

        var bytes = new List<byte>(encoded.Length);
        for (int i = 0; i < encoded.Length; i++)
        {
            if (encoded[i] == '%' && i + 2 < encoded.Length &&
                byte.TryParse(encoded.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out byte b))
            {
                bytes.Add(b);
                i += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(encoded[i].ToString()));
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }
}
