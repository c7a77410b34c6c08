using System.Text;

namespace Strata.Namespace;

/// <summary>
/// A validated path inside a bucket: its components as UTF-8. "a/b/c" has components a, b, c; the empty
/// path (or "/") is the bucket's root directory. One leading and one trailing slash are accepted.
/// </summary>
public sealed class NamespacePath
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private NamespacePath(string text, byte[][] components)
    {
        Text = text;
        Components = components;
    }

    /// <summary>The canonical text: components joined by '/', no leading or trailing slash.</summary>
    public string Text { get; }

    public byte[][] Components { get; }

    public bool IsRoot => Components.Length == 0;

    /// <summary>The last component (the entry's own name). Not defined for the root.</summary>
    public byte[] Name => Components[^1];

    /// <summary>The path of the parent directory.</summary>
    public NamespacePath Parent => new(
        Components.Length <= 1 ? "" : Text[..Text.LastIndexOf('/')],
        Components[..^1]);

    /// <summary>True when this path is <paramref name="other"/> or lies below it.</summary>
    public bool IsWithin(NamespacePath other)
    {
        if (other.Components.Length > Components.Length)
        {
            return false;
        }

        for (int i = 0; i < other.Components.Length; i++)
        {
            if (!Components[i].AsSpan().SequenceEqual(other.Components[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Parses and validates <paramref name="path"/>; throws <see cref="CommandRejectedException"/> with a precise message.</summary>
    public static NamespacePath Parse(string path, bool allowRoot = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        string trimmed = path;
        if (trimmed.StartsWith('/'))
        {
            trimmed = trimmed[1..];
        }

        if (trimmed.EndsWith('/'))
        {
            trimmed = trimmed[..^1];
        }

        if (trimmed.Length == 0)
        {
            return allowRoot
                ? new NamespacePath("", [])
                : throw CommandRejectedException.Invalid($"path '{path}' is empty: name an entry inside the bucket");
        }

        byte[] utf8 = EncodeStrict(trimmed, "path");
        if (utf8.Length > NamespaceLimits.MaxPathBytes)
        {
            throw CommandRejectedException.Invalid(
                $"path is {utf8.Length} bytes long; the limit is {NamespaceLimits.MaxPathBytes} bytes");
        }

        string[] parts = trimmed.Split('/');
        if (parts.Length > NamespaceLimits.MaxDepth)
        {
            throw CommandRejectedException.Invalid($"path has {parts.Length} levels; the limit is {NamespaceLimits.MaxDepth}");
        }

        var components = new byte[parts.Length][];
        for (int i = 0; i < parts.Length; i++)
        {
            components[i] = ValidateName(parts[i], path);
        }

        return new NamespacePath(trimmed, components);
    }

    /// <summary>Validates one path component and returns its UTF-8 bytes.</summary>
    public static byte[] ValidateName(string name, string path)
    {
        if (name.Length == 0)
        {
            throw CommandRejectedException.Invalid($"path '{Printable(path)}' has an empty component ('//')");
        }

        if (name is "." or "..")
        {
            throw CommandRejectedException.Invalid($"path '{Printable(path)}' has a '{name}' component; relative components are not allowed");
        }

        foreach (char c in name)
        {
            if (c == '\0')
            {
                throw CommandRejectedException.Invalid($"path '{Printable(path)}' contains a NUL character");
            }

            if (char.IsControl(c))
            {
                throw CommandRejectedException.Invalid(
                    $"path '{Printable(path)}' contains the control character U+{(int)c:X4}");
            }
        }

        byte[] utf8 = EncodeStrict(name, "path component");
        if (utf8.Length > NamespaceLimits.MaxNameBytes)
        {
            throw CommandRejectedException.Invalid(
                $"path component '{Printable(name[..Math.Min(name.Length, 32)])}...' is {utf8.Length} bytes long; the limit is {NamespaceLimits.MaxNameBytes} bytes");
        }

        return utf8;
    }

    /// <summary>UTF-8 of <paramref name="text"/>, refusing text that is not valid Unicode (lone surrogates).</summary>
    public static byte[] EncodeStrict(string text, string what)
    {
        try
        {
            return StrictUtf8.GetBytes(text);
        }
        catch (EncoderFallbackException)
        {
            throw CommandRejectedException.Invalid($"{what} is not valid UTF-8 (it contains an unpaired surrogate)");
        }
    }

    /// <summary>Decodes stored UTF-8 (trusted: it was validated before it was written).</summary>
    public static string Decode(ReadOnlySpan<byte> utf8) => Encoding.UTF8.GetString(utf8);

    /// <summary>Joins a parent's canonical text and a child's name.</summary>
    public static string Join(string parent, ReadOnlySpan<byte> name) =>
        parent.Length == 0 ? Decode(name) : parent + "/" + Decode(name);

    /// <summary>Text safe to print in an error message: control characters shown as escapes.</summary>
    public static string Printable(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (char.IsControl(c) || char.IsSurrogate(c))
            {
                sb.Append($"\\u{(int)c:X4}");
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    public override string ToString() => Text;
}
