@{
    IncludeRules=@('PSAvoidUsingPlainTextForPassword',
                   'PSAvoidUsingComputerNameHardcoded',
                   'PSAvoidUsingConvertToSecureStringWithPlainText',
                   'PSUsePSCredentialType',
                   'PSAvoidUsingUserNameAndPasswordParams')
}