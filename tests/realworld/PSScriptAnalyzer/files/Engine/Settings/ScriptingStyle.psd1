@{
    IncludeRules=@('PSProvideCommentHelp',
                   'PSAvoidUsingWriteHost')
}