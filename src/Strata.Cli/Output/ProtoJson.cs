using Google.Protobuf;

namespace Strata.Cli.Output;

/// <summary>
/// <c>--json</c> output: the API message in the protobuf JSON mapping (lowerCamelCase fields, enum names, 64-bit
/// integers as strings), with fields at their default value included so every field is always present.
/// </summary>
internal static class ProtoJson
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true).WithIndentation());

    public static void Write(CliEnvironment env, IMessage message) => env.Out.WriteLine(Formatter.Format(message));
}
