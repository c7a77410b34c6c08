using Strata.Linearizability.Models;
using static Strata.Linearizability.Tests.RegisterHistories;

namespace Strata.Linearizability.Tests;

public sealed class CasRegisterCheckerTests
{
    [Fact]
    public void Empty_history_is_linearizable()
    {
        var result = Check();

        Assert.Equal(Verdict.Ok, result.Verdict);
        Assert.Null(result.Explanation);
    }

    [Fact]
    public void Sequential_history_is_linearizable_in_its_own_order()
    {
        Operation<CasRegisterInput, CasRegisterOutput>[] history =
        [
            Read(0, null, 0, 1),
            Write(1, 1, 2, 3),
            Cas(0, 1, 2, true, 4, 5),
            Cas(1, 1, 3, false, 6, 7),
            Read(2, 2, 8, 9),
        ];

        var result = Check(history);

        LinearizationAssert.IsValid(CasRegisterModel.Instance, history, result);
        Assert.Equal([0, 1, 2, 3, 4], result.Partitions.Single().Linearization);
    }

    [Fact]
    public void Concurrent_reads_may_see_either_side_of_an_overlapping_write()
    {
        Operation<CasRegisterInput, CasRegisterOutput>[] history =
        [
            Write(0, 1, 0, 1),
            Write(1, 2, 2, 10),
            Read(2, 2, 3, 4),
            Read(3, 2, 5, 6),
            Read(4, 1, 2, 3), // before the write of 2 took effect
        ];

        var result = Check(history);

        LinearizationAssert.IsValid(CasRegisterModel.Instance, history, result);
    }

    [Fact]
    public void Stale_read_after_a_completed_write_is_illegal()
    {
        var result = Check(
            Write(0, 1, 0, 1),
            Write(1, 2, 2, 3),
            Read(2, 1, 4, 5));

        Assert.Equal(Verdict.Illegal, result.Verdict);
        var partition = result.Partitions.Single();
        Assert.Equal([0, 1], partition.Linearization);
        Assert.Equal([2], partition.Unplaced);
    }

    [Fact]
    public void Reads_going_back_in_time_are_illegal_even_when_each_overlaps_the_write()
    {
        var result = Check(
            Write(0, 1, 0, 1),
            Write(1, 2, 2, 20),
            Read(2, 2, 3, 4),
            Read(3, 1, 5, 6));

        Assert.Equal(Verdict.Illegal, result.Verdict);
    }

    [Fact]
    public void Reading_absent_after_a_write_completed_is_illegal()
    {
        Assert.Equal(Verdict.Illegal, Check(Write(0, 1, 0, 1), Read(1, null, 2, 3)).Verdict);
    }

    [Fact]
    public void Two_successful_cas_from_the_same_value_are_illegal()
    {
        var result = Check(
            Write(0, 0, 0, 1),
            Cas(1, 0, 1, true, 2, 5),
            Cas(2, 0, 2, true, 3, 6));

        Assert.Equal(Verdict.Illegal, result.Verdict);
    }

    [Fact]
    public void Failed_cas_while_the_value_surely_matched_is_illegal()
    {
        Assert.Equal(Verdict.Illegal, Check(Write(0, 0, 0, 1), Cas(1, 0, 1, false, 2, 3)).Verdict);
    }

    [Fact]
    public void Successful_cas_on_an_absent_register_is_illegal()
    {
        Assert.Equal(Verdict.Illegal, Check(Cas(0, 0, 1, true, 0, 1)).Verdict);
    }

    [Fact]
    public void Failed_cas_is_legal_when_a_concurrent_write_changed_the_value()
    {
        Operation<CasRegisterInput, CasRegisterOutput>[] history =
        [
            Write(0, 0, 0, 1),
            Write(1, 5, 2, 6),
            Cas(2, 0, 1, false, 3, 4),
            Read(0, 5, 7, 8),
        ];

        LinearizationAssert.IsValid(CasRegisterModel.Instance, history, Check(history));
    }

    [Fact]
    public void Cas_chain_is_linearizable_only_in_the_order_the_values_allow()
    {
        // All concurrent: 0 -> 1 -> 2 -> 3 forces one order regardless of the listing order.
        Operation<CasRegisterInput, CasRegisterOutput>[] history =
        [
            Cas(0, 2, 3, true, 1, 10),
            Cas(1, 1, 2, true, 1, 10),
            Cas(2, 0, 1, true, 1, 10),
            Write(3, 0, 0, 1),
            Read(4, 3, 11, 12),
        ];

        var result = Check(history);

        LinearizationAssert.IsValid(CasRegisterModel.Instance, history, result);
        Assert.Equal([3, 2, 1, 0, 4], result.Partitions.Single().Linearization);
    }

    [Fact]
    public void Indeterminate_write_may_never_take_effect()
    {
        Operation<CasRegisterInput, CasRegisterOutput>[] history =
        [
            Write(0, 1, 0, 1),
            WriteUnknown(1, 2, 2),
            Read(2, 1, 3, 4),
            Read(2, 1, 100, 101),
        ];

        var result = Check(history);

        LinearizationAssert.IsValid(CasRegisterModel.Instance, history, result);
        Assert.DoesNotContain(1, result.Partitions.Single().Linearization);
    }

    [Fact]
    public void Indeterminate_write_may_take_effect_long_after_it_was_called()
    {
        Operation<CasRegisterInput, CasRegisterOutput>[] history =
        [
            Write(0, 1, 0, 1),
            WriteUnknown(1, 2, 2),
            Read(2, 1, 3, 4),
            Read(2, 1, 50, 51),
            Read(2, 2, 100, 101),
        ];

        var result = Check(history);

        LinearizationAssert.IsValid(CasRegisterModel.Instance, history, result);
        Assert.Equal([0, 2, 3, 1, 4], result.Partitions.Single().Linearization);
    }

    [Fact]
    public void Indeterminate_write_cannot_be_undone_once_observed()
    {
        var result = Check(
            Write(0, 1, 0, 1),
            WriteUnknown(1, 2, 2),
            Read(2, 2, 3, 4),
            Read(2, 1, 5, 6));

        Assert.Equal(Verdict.Illegal, result.Verdict);
    }

    [Fact]
    public void Indeterminate_write_cannot_take_effect_before_its_call()
    {
        Assert.Equal(Verdict.Illegal, Check(Read(0, 2, 0, 1), WriteUnknown(1, 2, 2)).Verdict);
    }

    [Fact]
    public void Indeterminate_cas_may_or_may_not_have_succeeded()
    {
        Assert.Equal(Verdict.Ok, Check(Write(0, 0, 0, 1), CasUnknown(1, 0, 1, 2), Read(2, 1, 3, 4)).Verdict);
        Assert.Equal(Verdict.Ok, Check(Write(0, 0, 0, 1), CasUnknown(1, 0, 1, 2), Read(2, 0, 3, 4)).Verdict);
        Assert.Equal(Verdict.Illegal, Check(Write(0, 3, 0, 1), CasUnknown(1, 0, 1, 2), Read(2, 1, 3, 4)).Verdict);
    }

    [Fact]
    public void Operation_returning_as_another_is_called_counts_as_concurrent()
    {
        Assert.Equal(Verdict.Ok, Check(Write(0, 1, 0, 5), Read(1, null, 5, 6)).Verdict);
        Assert.Equal(Verdict.Illegal, Check(Write(0, 1, 0, 5), Read(1, null, 6, 7)).Verdict);
    }

    [Fact]
    public void Illegal_explanation_names_the_prefix_the_state_and_the_operation_that_does_not_fit()
    {
        var result = Check(
            Write(0, 1, 0, 1),
            Write(1, 2, 2, 3),
            Read(7, 1, 4, 5));

        var text = result.Explanation;
        Assert.NotNull(text);
        Assert.Contains("Longest linearizable prefix: 2 operations", text, StringComparison.Ordinal);
        Assert.Contains("#1 client 1: write 2 [call 2, return 3]", text, StringComparison.Ordinal);
        Assert.Contains("State after the prefix: 2", text, StringComparison.Ordinal);
        Assert.Contains("#2 client 7: read -> 1 [call 4, return 5]: not legal in state 2", text, StringComparison.Ordinal);
        Assert.Contains(result.Partitions.Single().Explanation!, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Explanation_describes_indeterminate_operations_as_such()
    {
        var result = Check(
            Write(0, 1, 0, 1),
            CasUnknown(3, 5, 6, 2),
            Read(1, 4, 3, 4));

        Assert.Equal(Verdict.Illegal, result.Verdict);
        Assert.Contains("#1 client 3: cas 5 -> 6 [call 2, outcome unknown]", result.Explanation, StringComparison.Ordinal);
        Assert.Contains("#2 client 1: read -> 4 [call 3, return 4]: not legal in state 1", result.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Operation_returning_before_its_call_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => Check(Write(0, 1, 5, 4)));
    }
}
