@{
    IncludeRules=@('PSDSC*')
}