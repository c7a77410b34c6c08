using System.Collections.Immutable;
using System.Globalization;
using Strata.Linearizability.Models;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Strata.Linearizability.Tests;

/// <summary>
/// Seeded random histories. Each run prints its base seed; a failure names the seed of the failing case.
/// Knobs: STRATA_LINCHECK_SEED (base seed, to replay), STRATA_LINCHECK_ITERATIONS (cases per test; default 200).
/// </summary>
public sealed class RandomizedTests(ITestOutputHelper output)
{
    private static readonly int Iterations = int.TryParse(
        Environment.GetEnvironmentVariable("STRATA_LINCHECK_ITERATIONS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 200;

    private int BaseSeed()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("STRATA_LINCHECK_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)
            ? s
            : 20261126;
        output.WriteLine($"base seed {seed} (STRATA_LINCHECK_SEED), {Iterations} iterations (STRATA_LINCHECK_ITERATIONS)");
        return seed;
    }

    private void ForEachSeed(Action<int> test)
    {
        var baseSeed = BaseSeed();
        for (var i = 0; i < Iterations; i++)
        {
            var seed = baseSeed + i;
            try
            {
                test(seed);
            }
            catch (Exception e) when (e is not XunitException { Message: var m } || !m.StartsWith("seed ", StringComparison.Ordinal))
            {
                throw new XunitException($"seed {seed} (replay with STRATA_LINCHECK_SEED={seed} STRATA_LINCHECK_ITERATIONS=1): {e.Message}");
            }
        }
    }

    /// <summary>A real sequential run of a register, then each operation stretched around its linearization point.</summary>
    private static List<Operation<CasRegisterInput, CasRegisterOutput>> RegisterRun(Random random)
    {
        var history = new List<Operation<CasRegisterInput, CasRegisterOutput>>();
        long? state = null;
        var count = random.Next(10, 80);
        for (var i = 0; i < count; i++)
        {
            var point = (10L * i) + 100;
            var call = point - random.Next(0, 60);
            var ret = point + random.Next(0, 60);
            var client = i % 7;
            var unknown = random.Next(10) == 0;
            var takesEffect = !unknown || random.Next(2) == 0;
            switch (random.Next(10))
            {
                case < 4:
                    history.Add(unknown
                        ? Operation<CasRegisterInput, CasRegisterOutput>.Indeterminate(client, CasRegisterInput.Read(), call)
                        : new(client, CasRegisterInput.Read(), CasRegisterOutput.ReadResult(state), call, ret));
                    break;
                case < 7:
                    var value = random.Next(4);
                    history.Add(unknown
                        ? Operation<CasRegisterInput, CasRegisterOutput>.Indeterminate(client, CasRegisterInput.Write(value), call)
                        : new(client, CasRegisterInput.Write(value), CasRegisterOutput.WriteDone, call, ret));
                    state = takesEffect ? value : state;
                    break;
                default:
                    long from = random.Next(4);
                    long to = random.Next(4);
                    var succeeds = state == from;
                    history.Add(unknown
                        ? Operation<CasRegisterInput, CasRegisterOutput>.Indeterminate(client, CasRegisterInput.Cas(from, to), call)
                        : new(client, CasRegisterInput.Cas(from, to), CasRegisterOutput.CasResult(succeeds), call, ret));
                    state = takesEffect && succeeds ? to : state;
                    break;
            }
        }

        Shuffle(random, history);
        return history;
    }

    /// <summary>
    /// A real sequential run of a three-key map, stretched less: every order of appends concurrent between two
    /// gets of a key is a distinct state, so the search grows with that number (as in any WGL checker), and
    /// intervals as wide as the register's make a few seeds take seconds.
    /// </summary>
    private static List<Operation<KvInput, string>> KvRun(Random random)
    {
        var history = new List<Operation<KvInput, string>>();
        var state = new Dictionary<string, string> { ["a"] = "", ["b"] = "", ["c"] = "" };
        var count = random.Next(10, 80);
        for (var i = 0; i < count; i++)
        {
            var point = (10L * i) + 100;
            var call = point - random.Next(0, 30);
            var ret = point + random.Next(0, 30);
            var key = ((char)('a' + random.Next(3))).ToString();
            var unknown = random.Next(10) == 0;
            var takesEffect = !unknown || random.Next(2) == 0;
            var input = random.Next(10) switch
            {
                < 4 => KvInput.Get(key),
                < 5 => KvInput.Put(key, $"p{i};"),
                _ => KvInput.Append(key, $"{i};"),
            };
            history.Add(unknown
                ? Operation<KvInput, string>.Indeterminate(i % 5, input, call)
                : new(i % 5, input, input.Kind == KvOp.Get ? state[key] : null, call, ret));
            if (takesEffect)
            {
                state[key] = KvModel.Instance.Step(state[key], input, null, true).Next;
            }
        }

        Shuffle(random, history);
        return history;
    }

    private static void Shuffle<T>(Random random, List<T> list)
    {
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }

    [Fact]
    public void Register_histories_from_real_runs_are_linearizable_and_a_read_of_a_never_written_value_is_not()
    {
        ForEachSeed(seed =>
        {
            var random = new Random(seed);
            var history = RegisterRun(random);

            var result = LinearizabilityChecker.Check(CasRegisterModel.Instance, history, Timeout.InfiniteTimeSpan);
            LinearizationAssert.IsValid(CasRegisterModel.Instance, history, result);

            var reads = Enumerable.Range(0, history.Count).Where(i => history[i].Input.Kind == CasRegisterOp.Read && !history[i].OutcomeUnknown).ToList();
            var victim = reads.Count > 0 ? reads[random.Next(reads.Count)] : -1;
            if (victim < 0)
            {
                history.Add(new(9, CasRegisterInput.Read(), default, 0, 1));
                victim = history.Count - 1;
            }

            history[victim] = history[victim] with { Output = CasRegisterOutput.ReadResult(1000) };
            var corrupted = LinearizabilityChecker.Check(CasRegisterModel.Instance, history, Timeout.InfiniteTimeSpan);

            Assert.Equal(Verdict.Illegal, corrupted.Verdict);
            Assert.DoesNotContain(victim, corrupted.Partitions.Single().Linearization);
            LinearizationAssert.IsValidPrefix(CasRegisterModel.Instance, history, corrupted.Partitions.Single());
            Assert.Contains("not linearizable", corrupted.Explanation, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void Kv_histories_from_real_runs_are_linearizable_and_a_corrupted_get_is_not()
    {
        ForEachSeed(seed =>
        {
            var random = new Random(seed);
            var history = KvRun(random);

            var result = LinearizabilityChecker.Check(KvModel.Instance, history, Timeout.InfiniteTimeSpan);
            LinearizationAssert.IsValid(KvModel.Instance, history, result);

            var gets = Enumerable.Range(0, history.Count).Where(i => history[i].Input.Kind == KvOp.Get && !history[i].OutcomeUnknown).ToList();
            if (gets.Count == 0)
            {
                return;
            }

            var victim = gets[random.Next(gets.Count)];
            history[victim] = history[victim] with { Output = "never written" };
            var corrupted = LinearizabilityChecker.Check(KvModel.Instance, history, Timeout.InfiniteTimeSpan);

            Assert.Equal(Verdict.Illegal, corrupted.Verdict);
            var key = history[victim].Input.Key;
            Assert.Equal(Verdict.Illegal, corrupted.Partitions.Single(p => p.Name == $"key \"{key}\"").Verdict);
            Assert.All(corrupted.Partitions.Where(p => p.Name != $"key \"{key}\""), p => Assert.Equal(Verdict.Ok, p.Verdict));
        });
    }

    [Fact]
    public void Small_random_register_histories_agree_with_brute_force()
    {
        var illegal = 0;
        ForEachSeed(seed =>
        {
            var random = new Random(seed);
            var history = new List<Operation<CasRegisterInput, CasRegisterOutput>>();
            var count = random.Next(1, 8);
            for (var i = 0; i < count; i++)
            {
                var call = random.Next(0, 12);
                var ret = call + random.Next(0, 6);
                long? Value() => random.Next(4) == 0 ? null : random.Next(3);
                var (input, outputValue) = random.Next(3) switch
                {
                    0 => (CasRegisterInput.Read(), CasRegisterOutput.ReadResult(Value())),
                    1 => (CasRegisterInput.Write(random.Next(3)), CasRegisterOutput.WriteDone),
                    _ => (CasRegisterInput.Cas(random.Next(3), random.Next(3)), CasRegisterOutput.CasResult(random.Next(2) == 0)),
                };
                history.Add(random.Next(5) == 0
                    ? Operation<CasRegisterInput, CasRegisterOutput>.Indeterminate(i, input, call)
                    : new(i, input, outputValue, call, ret));
            }

            var expected = BruteForce.IsLinearizable(CasRegisterModel.Instance, history) ? Verdict.Ok : Verdict.Illegal;
            var result = LinearizabilityChecker.Check(CasRegisterModel.Instance, history, Timeout.InfiniteTimeSpan);

            Assert.True(expected == result.Verdict, $"brute force says {expected}, checker {result.Verdict}:\n{BruteForce.Show(CasRegisterModel.Instance, history)}");
            if (expected == Verdict.Ok)
            {
                LinearizationAssert.IsValid(CasRegisterModel.Instance, history, result);
            }
            else
            {
                illegal++;
            }
        });

        output.WriteLine($"{illegal} of {Iterations} illegal");
        Assert.True(Iterations < 50 || (illegal > Iterations / 10 && illegal < Iterations * 9 / 10), "the generator should produce both verdicts");
    }

    [Fact]
    public void Small_random_kv_histories_agree_with_brute_force()
    {
        ForEachSeed(seed =>
        {
            var random = new Random(seed);
            var history = new List<Operation<KvInput, string>>();
            var count = random.Next(1, 8);
            string[] reads = ["", "x", "y", "xy", "yx", "z"];
            for (var i = 0; i < count; i++)
            {
                var call = random.Next(0, 12);
                var ret = call + random.Next(0, 6);
                var key = random.Next(3) == 0 ? "b" : "a";
                var input = random.Next(4) switch
                {
                    0 => KvInput.Get(key),
                    1 => KvInput.Put(key, "z"),
                    2 => KvInput.Append(key, "x"),
                    _ => KvInput.Append(key, "y"),
                };
                history.Add(random.Next(5) == 0
                    ? Operation<KvInput, string>.Indeterminate(i, input, call)
                    : new(i, input, input.Kind == KvOp.Get ? reads[random.Next(reads.Length)] : null, call, ret));
            }

            var expected = BruteForce.IsLinearizable(KvModel.Instance, history) ? Verdict.Ok : Verdict.Illegal;

            var actual = LinearizabilityChecker.Check(KvModel.Instance, history, Timeout.InfiniteTimeSpan).Verdict;

            Assert.True(expected == actual, $"brute force says {expected}, checker {actual}:\n{BruteForce.Show(KvModel.Instance, history)}");
        });
    }
}

/// <summary>
/// The definition, executed: try every order of the operations that respects real time, indeterminate
/// operations optional. Exponential; for histories of a handful of operations only. The map is checked as
/// one object (no partitioning), so agreement also shows partitioning by key is sound.
/// </summary>
internal static class BruteForce
{
    /// <summary>For a single-object model: its own state and step.</summary>
    public static bool IsLinearizable<TState, TInput, TOutput>(IModel<TState, TInput, TOutput> model, IReadOnlyList<Operation<TInput, TOutput>> history) =>
        IsLinearizable(history, model.Init(), (state, op) => model.Step(state, op.Input, op.OutcomeUnknown ? default : op.Output, op.OutcomeUnknown));

    /// <summary>For the key-value map as one object: the state is the whole map, not one key's value.</summary>
    public static bool IsLinearizable(KvModel model, IReadOnlyList<Operation<KvInput, string>> history) =>
        IsLinearizable(history, ImmutableDictionary<string, string>.Empty, (map, op) =>
        {
            var (ok, next) = model.Step(map.GetValueOrDefault(op.Input.Key, model.Init()), op.Input, op.OutcomeUnknown ? default : op.Output, op.OutcomeUnknown);
            return (ok, map.SetItem(op.Input.Key, next));
        });

    public static string Show<TState, TInput, TOutput>(IModel<TState, TInput, TOutput> model, IReadOnlyList<Operation<TInput, TOutput>> history) =>
        string.Join('\n', history.Select((op, i) => $"#{i} {model.Describe(op.Input, op.Output)} [{op.Call}, {(op.OutcomeUnknown ? "unknown" : op.Return)}]"));

    private static bool IsLinearizable<TState, TInput, TOutput>(
        IReadOnlyList<Operation<TInput, TOutput>> history,
        TState initial,
        Func<TState, Operation<TInput, TOutput>, (bool Ok, TState Next)> step) =>
        Search(history, new bool[history.Count], initial, step);

    private static bool Search<TState, TInput, TOutput>(
        IReadOnlyList<Operation<TInput, TOutput>> history,
        bool[] placed,
        TState state,
        Func<TState, Operation<TInput, TOutput>, (bool Ok, TState Next)> step)
    {
        if (Enumerable.Range(0, history.Count).All(i => placed[i] || history[i].OutcomeUnknown))
        {
            return true;
        }

        for (var b = 0; b < history.Count; b++)
        {
            // b may go next unless some unplaced definite operation returned before b was called.
            if (placed[b] || Enumerable.Range(0, history.Count).Any(a => !placed[a] && a != b && !history[a].OutcomeUnknown && history[a].Return < history[b].Call))
            {
                continue;
            }

            var (ok, next) = step(state, history[b]);
            if (!ok)
            {
                continue;
            }

            placed[b] = true;
            var found = Search(history, placed, next, step);
            placed[b] = false;
            if (found)
            {
                return true;
            }
        }

        return false;
    }
}
