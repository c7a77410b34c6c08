using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using Strata.Api.V1;
using Strata.Client;

namespace Strata.Cli.Commands;

/// <summary><c>strata txn --file FILE|-</c>: commits the operations of a JSON file atomically (see <see cref="TransactionFile"/>).</summary>
internal static class TransactionCommand
{
    public static Command Create(NodeCommand node)
    {
        var file = new Option<string>("--file", "-f")
        {
            Description = "JSON array of operations ('-' reads standard input)",
            HelpName = "FILE",
            Required = true,
        };
        return node.Create("txn", "Commit several operations atomically: all apply, or none", [file], async request =>
        {
            StrataTransaction transaction = TransactionFile.Parse(await ReadAsync(request.Value(file), request).ConfigureAwait(false));
            CommitResponse response = await request.Client.CommitAsync(transaction, cancellationToken: request.CancellationToken).ConfigureAwait(false);
            return request.Show(response, Results(transaction, response));
        });
    }

    private static async Task<string> ReadAsync(string file, NodeRequest request)
    {
        if (file == "-")
        {
            return await request.Env.In.ReadToEndAsync(request.CancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await File.ReadAllTextAsync(file, request.CancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot read txn file {file}: {e.Message}");
        }
    }

    private static Table Results(StrataTransaction transaction, CommitResponse response)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn(new TableColumn("#").RightAligned()).AddColumn("Op").AddColumn("Path").AddColumn(new TableColumn("Generation").RightAligned())
            .Caption($"committed {transaction.Operations.Count} operations atomically");
        for (int i = 0; i < transaction.Operations.Count; i++)
        {
            Entry? entry = i < response.Entries.Count ? response.Entries[i] : null;
            table.AddRow(
                i.ToString(CultureInfo.InvariantCulture),
                transaction.Operations[i].BodyCase.ToString(),
                Markup.Escape(entry is { Path.Length: > 0 } ? entry.Path : "-"),
                entry is { Generation: > 0 } ? entry.Generation.ToString(CultureInfo.InvariantCulture) : "-");
        }

        return table;
    }
}
