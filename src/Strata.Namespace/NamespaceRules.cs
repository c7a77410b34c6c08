using Strata.Namespace.Commands;

namespace Strata.Namespace;

/// <summary>Bucket names: 3 to 63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit.</summary>
public static class BucketNames
{
    public static void Validate(string name)
    {
        if (name.Length is < 3 or > 63)
        {
            throw CommandRejectedException.Invalid(
                $"bucket name '{NamespacePath.Printable(name)}' must be 3 to 63 characters long, not {name.Length}");
        }

        foreach (char c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-'))
            {
                throw CommandRejectedException.Invalid(
                    $"bucket name '{NamespacePath.Printable(name)}' may contain only a-z, 0-9, '.' and '-'");
            }
        }

        if (!char.IsAsciiLetterOrDigit(name[0]) || !char.IsAsciiLetterOrDigit(name[^1]))
        {
            throw CommandRejectedException.Invalid(
                $"bucket name '{name}' must start and end with a letter or a digit");
        }
    }
}

/// <summary>Limits on an object's attributes.</summary>
public static class ObjectRules
{
    public const int MaxEtagBytes = 256;
    public const int MaxContentTypeBytes = 256;
    public const int MaxBlobIdBytes = 1024;

    public static void Validate(ObjectAttributes attributes)
    {
        CheckText(attributes.Etag, "ETag", MaxEtagBytes);
        CheckText(attributes.ContentType, "content type", MaxContentTypeBytes);
        if (!Enum.IsDefined(attributes.Tier))
        {
            throw CommandRejectedException.Invalid($"unknown storage tier {(int)attributes.Tier}");
        }

        if (!Enum.IsDefined(attributes.Lifecycle))
        {
            throw CommandRejectedException.Invalid($"unknown lifecycle state {(int)attributes.Lifecycle}");
        }

        if (attributes.Locations.Count > NamespaceLimits.MaxLocations)
        {
            throw CommandRejectedException.Invalid(
                $"an object has at most {NamespaceLimits.MaxLocations} locations, not {attributes.Locations.Count}");
        }

        foreach (Location location in attributes.Locations)
        {
            if (!Enum.IsDefined(location.Tier) || location.Tier == Tier.Unspecified)
            {
                throw CommandRejectedException.Invalid($"location '{NamespacePath.Printable(location.BlobId)}' needs a storage tier");
            }

            if (location.BlobId.Length == 0)
            {
                throw CommandRejectedException.Invalid("a location needs a blob id");
            }

            CheckText(location.BlobId, "blob id", MaxBlobIdBytes);
        }

        int metadataBytes = 0;
        foreach (KeyValuePair<string, string> pair in attributes.UserMetadata)
        {
            if (pair.Key.Length == 0)
            {
                throw CommandRejectedException.Invalid("a user metadata key is empty");
            }

            foreach (char c in pair.Key)
            {
                if (char.IsControl(c))
                {
                    throw CommandRejectedException.Invalid(
                        $"user metadata key '{NamespacePath.Printable(pair.Key)}' contains a control character");
                }
            }

            metadataBytes += NamespacePath.EncodeStrict(pair.Key, "user metadata key").Length;
            metadataBytes += NamespacePath.EncodeStrict(pair.Value, "user metadata value").Length;
        }

        if (metadataBytes > NamespaceLimits.MaxUserMetadataBytes)
        {
            throw CommandRejectedException.Invalid(
                $"user metadata is {metadataBytes} bytes; the limit is {NamespaceLimits.MaxUserMetadataBytes} bytes (keys and values together)");
        }
    }

    private static void CheckText(string text, string what, int maxBytes)
    {
        int bytes = NamespacePath.EncodeStrict(text, what).Length;
        if (bytes > maxBytes)
        {
            throw CommandRejectedException.Invalid($"{what} is {bytes} bytes; the limit is {maxBytes} bytes");
        }

        foreach (char c in text)
        {
            if (char.IsControl(c))
            {
                throw CommandRejectedException.Invalid($"{what} '{NamespacePath.Printable(text)}' contains a control character");
            }
        }
    }
}
