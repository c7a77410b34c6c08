namespace Strata.Cli;

internal static class StrataCommand
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine($"strata: no commands yet ({args.Length} arguments given)");
        return 2;
    }
}
