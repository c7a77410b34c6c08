using System.Globalization;
using System.Text.Json;
using Strata.Api.V1;
using Strata.Client;

namespace Strata.Cli.Commands;

/// <summary>
/// The input of <c>strata txn</c>: a JSON array of operations, applied in order, all or none.
/// </summary>
/// <remarks>
/// <code>
/// [
///   {"op": "guard", "bucket": "media", "path": "a/manifest.m3u8", "ifGenerationMatch": 7},
///   {"op": "put",   "bucket": "media", "path": "a/seg-1.ts", "size": 1024, "etag": "e1", "contentType": "video/mp2t",
///                   "tier": "ssd", "meta": {"profile": "h264-1080p"}, "ifNoneMatch": true},
///   {"op": "patch", "bucket": "media", "path": "a/seg-0.ts", "tier": "hdd", "contentType": "video/mp2t",
///                   "setMeta": {"k": "v"}, "removeMeta": ["old"]},
///   {"op": "mv",    "bucket": "media", "source": "a/draft", "destination": "a/final", "replace": false},
///   {"op": "rm",    "bucket": "media", "path": "a/old.ts", "version": 3},
///   {"op": "mkdir", "bucket": "media", "path": "a/new"},
///   {"op": "rmdir", "bucket": "media", "path": "a/empty"}
/// ]
/// </code>
/// Every operation takes the preconditions <c>ifGenerationMatch</c>, <c>ifMetagenerationMatch</c>,
/// <c>ifNoneMatch</c> and <c>ifMatch</c> (for mv they apply to the source). Unknown operations and fields are
/// refused, so a typo cannot silently drop a guard. Aliases: <c>delete</c> for rm, <c>rename</c> for mv,
/// <c>src</c>/<c>dst</c> for source/destination.
/// </remarks>
internal static class TransactionFile
{
    private static readonly string[] PreconditionFields = ["ifGenerationMatch", "ifMetagenerationMatch", "ifNoneMatch", "ifMatch"];

    /// <summary>Parses the operations; throws <see cref="UsageException"/> naming the operation and field at fault.</summary>
    public static StrataTransaction Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new UsageException($"txn file is not valid JSON: {e.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new UsageException("txn file must be a JSON array of operations");
            }

            var transaction = new StrataTransaction();
            int index = 0;
            foreach (JsonElement element in document.RootElement.EnumerateArray())
            {
                transaction.Add(new OperationReader(element, index++).Read());
            }

            return transaction.Operations.Count > 0 ? transaction : throw new UsageException("txn file has no operations");
        }
    }

    /// <summary>Reads one operation, tracking which fields were used so leftovers can be refused.</summary>
    private sealed class OperationReader(JsonElement element, int index)
    {
        private readonly HashSet<string> _used = ["op"];
        private string _op = "?";

        public TransactionOperation Read()
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                throw Error("is not a JSON object");
            }

            _op = String("op", required: true)!;
            TransactionOperation operation = _op switch
            {
                "guard" => new TransactionOperation
                {
                    Guard = new Guard { Bucket = Bucket(), Path = Path(), Preconditions = Preconditions() ?? throw Error("a guard needs a precondition") },
                },
                "put" => new TransactionOperation
                {
                    Put = new PutObjectRequest { Bucket = Bucket(), Path = Path(), Attributes = Attributes(), Preconditions = Preconditions() },
                },
                "patch" => new TransactionOperation { Patch = Patch() },
                "rm" or "delete" => new TransactionOperation { Delete = Delete() },
                "mv" or "rename" => new TransactionOperation
                {
                    Rename = new RenameRequest
                    {
                        Bucket = Bucket(),
                        Source = String("source", alias: "src", required: true)!,
                        Destination = String("destination", alias: "dst", required: true)!,
                        ReplaceDestination = Boolean("replace"),
                        Preconditions = Preconditions(),
                    },
                },
                "mkdir" => new TransactionOperation
                {
                    MakeDirectory = new MakeDirectoryRequest { Bucket = Bucket(), Path = Path(), Preconditions = Preconditions() },
                },
                "rmdir" => new TransactionOperation
                {
                    RemoveDirectory = new RemoveDirectoryRequest { Bucket = Bucket(), Path = Path(), Preconditions = Preconditions() },
                },
                _ => throw Error($"has unknown op '{_op}' (expected guard, put, patch, rm, mv, mkdir or rmdir)"),
            };

            foreach (JsonProperty property in element.EnumerateObject())
            {
                if (!_used.Contains(property.Name))
                {
                    throw Error($"has unknown field '{property.Name}'");
                }
            }

            return operation;
        }

        private string Bucket() => String("bucket", required: true)!;

        private string Path() => String("path", required: true)!;

        private ObjectAttributes Attributes()
        {
            var attributes = new ObjectAttributes
            {
                Size = UInt64("size") ?? 0,
                Etag = String("etag") ?? "",
                ContentType = String("contentType") ?? "",
                Tier = String("tier") is { } tier ? Tier(tier) : Api.V1.Tier.Unspecified,
            };
            foreach ((string key, string value) in StringMap("meta"))
            {
                attributes.UserMetadata[key] = value;
            }

            return attributes;
        }

        private PatchObjectRequest Patch()
        {
            var patch = new PatchObjectRequest { Bucket = Bucket(), Path = Path(), Preconditions = Preconditions() };
            if (String("contentType") is { } contentType)
            {
                patch.ContentType = contentType;
            }

            if (String("tier") is { } tier)
            {
                patch.Tier = Tier(tier);
            }

            foreach ((string key, string value) in StringMap("setMeta"))
            {
                patch.SetMetadata[key] = value;
            }

            if (Field("removeMeta") is { } remove)
            {
                if (remove.ValueKind != JsonValueKind.Array || remove.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                {
                    throw Error("field 'removeMeta' must be an array of strings");
                }

                patch.RemoveMetadata.AddRange(remove.EnumerateArray().Select(e => e.GetString()!));
            }

            return patch;
        }

        private DeleteObjectRequest Delete()
        {
            var delete = new DeleteObjectRequest { Bucket = Bucket(), Path = Path(), Preconditions = Preconditions() };
            if (UInt64("version") is ulong version)
            {
                delete.Version = version;
            }

            return delete;
        }

        private Preconditions? Preconditions()
        {
            if (!PreconditionFields.Any(name => element.TryGetProperty(name, out _)))
            {
                return null;
            }

            var preconditions = new Preconditions { IfNoneMatch = Boolean("ifNoneMatch") };
            if (UInt64("ifGenerationMatch") is ulong generation)
            {
                preconditions.IfGenerationMatch = generation;
            }

            if (UInt64("ifMetagenerationMatch") is ulong metageneration)
            {
                preconditions.IfMetagenerationMatch = metageneration;
            }

            if (String("ifMatch") is { } etag)
            {
                preconditions.IfMatch = etag;
            }

            return preconditions;
        }

        private Tier Tier(string name)
        {
            try
            {
                return CommandValues.ParseTier(name);
            }
            catch (UsageException e)
            {
                throw Error(e.Message);
            }
        }

        private JsonElement? Field(string name, string? alias = null)
        {
            foreach (string candidate in alias is null ? [name] : new[] { name, alias })
            {
                if (element.TryGetProperty(candidate, out JsonElement value))
                {
                    _used.Add(candidate);
                    return value;
                }
            }

            return null;
        }

        private string? String(string name, string? alias = null, bool required = false)
        {
            JsonElement? value = Field(name, alias);
            return value switch
            {
                null when required => throw Error($"needs field '{name}'"),
                null => null,
                { ValueKind: JsonValueKind.String } text => text.GetString(),
                _ => throw Error($"field '{name}' must be a string"),
            };
        }

        private ulong? UInt64(string name) => Field(name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.Number } number when number.TryGetUInt64(out ulong value) => value,
            { ValueKind: JsonValueKind.String } text when ulong.TryParse(text.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong value) => value,
            _ => throw Error($"field '{name}' must be a non-negative integer"),
        };

        private bool Boolean(string name) => Field(name) switch
        {
            null => false,
            { ValueKind: JsonValueKind.True } => true,
            { ValueKind: JsonValueKind.False } => false,
            _ => throw Error($"field '{name}' must be true or false"),
        };

        private IEnumerable<KeyValuePair<string, string>> StringMap(string name)
        {
            if (Field(name) is not { } map)
            {
                return [];
            }

            if (map.ValueKind != JsonValueKind.Object || map.EnumerateObject().Any(p => p.Value.ValueKind != JsonValueKind.String))
            {
                throw Error($"field '{name}' must be an object of strings");
            }

            return [.. map.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.GetString()!))];
        }

        private UsageException Error(string problem) => new($"txn file: operation {index} ({_op}) {problem}");
    }
}
