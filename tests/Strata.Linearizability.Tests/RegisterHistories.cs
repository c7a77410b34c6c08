using Strata.Linearizability.Models;

namespace Strata.Linearizability.Tests;

/// <summary>Terse builders for hand-written register histories.</summary>
internal static class RegisterHistories
{
    public static Operation<CasRegisterInput, CasRegisterOutput> Read(int client, long? value, long call, long ret) =>
        new(client, CasRegisterInput.Read(), CasRegisterOutput.ReadResult(value), call, ret);

    public static Operation<CasRegisterInput, CasRegisterOutput> Write(int client, long value, long call, long ret) =>
        new(client, CasRegisterInput.Write(value), CasRegisterOutput.WriteDone, call, ret);

    public static Operation<CasRegisterInput, CasRegisterOutput> Cas(int client, long from, long to, bool succeeded, long call, long ret) =>
        new(client, CasRegisterInput.Cas(from, to), CasRegisterOutput.CasResult(succeeded), call, ret);

    public static Operation<CasRegisterInput, CasRegisterOutput> WriteUnknown(int client, long value, long call) =>
        Operation<CasRegisterInput, CasRegisterOutput>.Indeterminate(client, CasRegisterInput.Write(value), call);

    public static Operation<CasRegisterInput, CasRegisterOutput> CasUnknown(int client, long from, long to, long call) =>
        Operation<CasRegisterInput, CasRegisterOutput>.Indeterminate(client, CasRegisterInput.Cas(from, to), call);

    public static CheckResult Check(params Operation<CasRegisterInput, CasRegisterOutput>[] history) =>
        LinearizabilityChecker.Check(CasRegisterModel.Instance, history, Timeout.InfiniteTimeSpan);
}
